package dbusapi

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/updater"
)

// updatePropNames are Update1's properties in introspection order.
var updatePropNames = []string{
	wire.PropOperation, wire.PropProgress, wire.PropLastError, wire.PropBootedSlot, wire.PropSlots,
	wire.PropPending, wire.PropWaiting, wire.PropPolicy, wire.PropHistory, wire.PropTrialCommitsAt,
}

// updateValues maps an updater status, and when its trial commits, to
// Update1's property values. Maps and lists are never nil, so an
// unchanged value compares equal.
func updateValues(st updater.Status, commitAt time.Time) map[string]any {
	slots := map[string]map[string]dbus.Variant{}
	for name, info := range st.Slots {
		d := map[string]dbus.Variant{
			wire.KeyState:  dbus.MakeVariant(string(info.State)),
			wire.KeyBooted: dbus.MakeVariant(name == st.Booted),
		}
		if info.Version != "" {
			d[wire.KeyVersion] = dbus.MakeVariant(info.Version)
		}
		if info.SecurityVersion > 0 {
			d[wire.KeySecurityVersion] = dbus.MakeVariant(info.SecurityVersion)
		}
		if st.Committed != "" {
			d[wire.KeyCommitted] = dbus.MakeVariant(name == st.Committed)
		}
		slots[string(name)] = d
	}
	pending := map[string]dbus.Variant{}
	if p := st.Pending; p != nil {
		pending[wire.KeyVersion] = dbus.MakeVariant(p.Version)
		pending[wire.KeyUpdateSlot] = dbus.MakeVariant(string(p.Slot))
		pending[wire.KeyPhase] = dbus.MakeVariant(string(p.Phase))
		pending[wire.KeyApproved] = dbus.MakeVariant(p.Approved)
		if p.FromVersion != "" {
			pending[wire.KeyFromVersion] = dbus.MakeVariant(p.FromVersion)
		}
		if p.SecurityVersion > 0 {
			pending[wire.KeySecurityVersion] = dbus.MakeVariant(p.SecurityVersion)
		}
		if !p.Installed.IsZero() {
			pending[wire.KeyInstalled] = dbus.MakeVariant(p.Installed.Unix())
		}
	}
	history := make([]map[string]dbus.Variant, 0, len(st.History))
	for _, r := range st.History {
		d := map[string]dbus.Variant{
			wire.KeyHistoryTime: dbus.MakeVariant(unixSeconds(r.Time)),
			wire.KeyEvent:       dbus.MakeVariant(r.Event),
		}
		if r.Slot != "" {
			d[wire.KeyUpdateSlot] = dbus.MakeVariant(string(r.Slot))
		}
		if r.Version != "" {
			d[wire.KeyVersion] = dbus.MakeVariant(r.Version)
		}
		if r.Detail != "" {
			d[wire.KeyDetail] = dbus.MakeVariant(r.Detail)
		}
		history = append(history, d)
	}
	return map[string]any{
		wire.PropOperation:  st.Operation,
		wire.PropProgress:   int32(min(max(st.Progress, 0), 100)),
		wire.PropLastError:  st.LastError,
		wire.PropBootedSlot: string(st.Booted),
		wire.PropSlots:      slots,
		wire.PropPending:    pending,
		wire.PropWaiting:    st.Waiting,
		wire.PropPolicy:     st.Policy,
		wire.PropHistory:    history,
		// A time a client counts down to, so it never parses Waiting.
		wire.PropTrialCommitsAt: micros(commitAt),
	}
}

func unixSeconds(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// updateEvent records an event of the updater in the audit log and sends
// it as Lock1.Event, so `lockctl log` and its --follow see updates among
// the lock's events.
func (s *Service) updateEvent(ctx context.Context, e updater.Event) {
	a := codes.AuditEvent{Kind: e.Kind, Source: wire.SourceUpdater, Reason: clip(e.Detail, maxReason), UID: -1}
	if e.Version != "" || e.Slot != "" {
		a.Details = map[string]string{}
		if e.Version != "" {
			a.Details[wire.KeyVersion] = clip(e.Version, maxReason)
		}
		if e.Slot != "" {
			a.Details[wire.KeyBootSlot] = string(e.Slot)
		}
	}
	s.audit(ctx, a)
}

// maxReason is what the audit log keeps of a reason (codes' limit).
const maxReason = 256

// clip shortens s to at most n bytes of whole UTF-8 characters.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

package dbusapi

import (
	"context"
	"math"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/dbusapi/wire"
)

// codeEntry is one element of Codes1.List: (u id, s label, a{sv} details).
type codeEntry struct {
	ID      uint32
	Label   string
	Details map[string]dbus.Variant
}

// logEntry is one element of Codes1.Log: (t id, a{sv} details).
type logEntry struct {
	ID      uint64
	Details map[string]dbus.Variant
}

// List returns every code, the admin code first, then by slot: ids,
// labels, kinds, schedules and usage, never digits or digests. Who has
// which code when is for admins only: lockd checks it itself, as for a
// change.
func (c codes1) List(msg dbus.Message) ([]codeEntry, *dbus.Error) {
	ctx, cancel, derr := c.s.beginRead(msg, wire.Codes1+".List", false)
	if derr != nil {
		return nil, derr
	}
	defer cancel()
	if c.s.cfg.Codes == nil {
		return nil, errStoreUnavailable
	}
	list, err := c.s.cfg.Codes.List(ctx)
	if err != nil {
		return nil, codesError(err)
	}
	out := make([]codeEntry, 0, len(list))
	for _, i := range list {
		if i.ID <= 0 || i.ID > maxID {
			c.s.log.Error("dbusapi: code id does not fit the D-Bus API; not listed", "id", i.ID)
			continue
		}
		out = append(out, codeEntry{ID: uint32(i.ID), Label: i.Label, Details: infoDetails(i)})
	}
	return out, nil
}

// infoDetails describes a code for List.
func infoDetails(i codes.Info) map[string]dbus.Variant {
	d := map[string]dbus.Variant{
		wire.KeyKind:    dbus.MakeVariant(string(i.Kind)),
		wire.KeySlot:    dbus.MakeVariant(uint32(max(i.Slot, 0))),
		wire.KeyEnabled: dbus.MakeVariant(i.Enabled),
		wire.KeyUses:    dbus.MakeVariant(uint32(max(i.Uses, 0))),
		wire.KeyCreated: dbus.MakeVariant(micros(i.Created)),
	}
	if i.Weekdays != 0 {
		d[wire.KeyWeekdays] = dbus.MakeVariant(i.Weekdays.String())
		d[wire.KeyFrom] = dbus.MakeVariant(i.From.String())
		d[wire.KeyUntilTime] = dbus.MakeVariant(i.Until.String())
	}
	if !i.ValidFrom.IsZero() {
		d[wire.KeyValidFrom] = dbus.MakeVariant(micros(i.ValidFrom))
	}
	if !i.ValidUntil.IsZero() {
		d[wire.KeyValidUntil] = dbus.MakeVariant(micros(i.ValidUntil))
	}
	if i.UsesLeft >= 0 {
		d[wire.KeyUsesLeft] = dbus.MakeVariant(uint32(i.UsesLeft))
	}
	if !i.LastUsed.IsZero() {
		d[wire.KeyLastUsed] = dbus.MakeVariant(micros(i.LastUsed))
	}
	return d
}

// Log returns up to limit audit events with an id greater than after_id,
// oldest first (limit 0: 100; at most 1000). Readers (group lockd) may
// call it as well as admins, as the README and the policy say; lockd
// checks that itself.
func (c codes1) Log(msg dbus.Message, after uint64, limit uint32) ([]logEntry, *dbus.Error) {
	ctx, cancel, derr := c.s.beginRead(msg, wire.Codes1+".Log", true)
	if derr != nil {
		return nil, derr
	}
	defer cancel()
	if c.s.cfg.Codes == nil {
		return nil, errStoreUnavailable
	}
	if after > math.MaxInt64 {
		return nil, invalidArgs("after_id: at most %d", int64(math.MaxInt64))
	}
	events, err := c.s.cfg.Codes.Log(ctx, int64(after), int(min(limit, 1000)))
	if err != nil {
		return nil, codesError(err)
	}
	return logEntries(events), nil
}

// beginRead checks a read's signature and caller (readers: group lockd
// too) and returns the call's context.
func (s *Service) beginRead(msg dbus.Message, method string, readers bool) (context.Context, context.CancelFunc, *dbus.Error) {
	sender, derr := s.begin(msg)
	if derr != nil {
		return nil, nil, derr
	}
	ctx, cancel := s.callContext()
	if _, derr := s.authorizeRead(ctx, sender, method, readers); derr != nil {
		cancel()
		return nil, nil, derr
	}
	return ctx, cancel, nil
}

func logEntries(events []codes.AuditEvent) []logEntry {
	out := make([]logEntry, 0, len(events))
	for _, e := range events {
		d := auditDetails(e)
		d[wire.KeyKind] = dbus.MakeVariant(e.Kind)
		out = append(out, logEntry{ID: uint64(max(e.ID, 0)), Details: d})
	}
	return out
}

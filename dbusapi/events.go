package dbusapi

import (
	"context"
	"time"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/lock"
)

// emit sends Event(kind, details). A failure (a closed connection) is
// logged: the audit log, not the signal, is the record.
func (s *Service) emit(kind string, details map[string]dbus.Variant) {
	if s.snapshot() == nil {
		return // not exported (yet): there is no object to send from
	}
	if err := s.conn.Emit(wire.ObjectPath, wire.Lock1+"."+wire.Event, kind, details); err != nil {
		s.log.Debug("dbusapi: emit Event", "kind", kind, "err", err)
	}
}

// audit records e in the audit log and announces it as an Event signal.
// The lock core's own events reach the log through its sink; this is for
// what happens only here (code changes over D-Bus, denials).
func (s *Service) audit(ctx context.Context, e codes.AuditEvent) {
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	if s.cfg.Codes == nil {
		s.log.Warn("dbusapi: audit log unavailable", "kind", e.Kind, "reason", e.Reason, "uid", e.UID)
	} else if err := s.cfg.Codes.Record(context.WithoutCancel(ctx), e); err != nil {
		s.log.Error("dbusapi: audit log write failed", "kind", e.Kind, "uid", e.UID, "err", err)
	}
	s.emit(e.Kind, auditDetails(e))
}

// fact is what events and audit entries share.
type fact struct {
	time     time.Time
	source   string
	reason   string
	codeID   int64
	codeKind string
	slot     int
	uid      int
	until    time.Time
	cred     string // credential type
}

func (f fact) details() map[string]dbus.Variant {
	d := map[string]dbus.Variant{
		wire.KeyTime: dbus.MakeVariant(micros(f.time)),
		wire.KeyUID:  dbus.MakeVariant(int32(f.uid)),
	}
	if f.source != "" {
		d[wire.KeySource] = dbus.MakeVariant(f.source)
	}
	if f.reason != "" {
		d[wire.KeyReason] = dbus.MakeVariant(f.reason)
	}
	if f.codeID > 0 && f.codeID <= maxID {
		d[wire.KeyCodeID] = dbus.MakeVariant(uint32(f.codeID))
	}
	if f.codeKind != "" {
		d[wire.KeyCodeKind] = dbus.MakeVariant(f.codeKind)
	}
	if f.slot > 0 {
		d[wire.KeySlot] = dbus.MakeVariant(uint32(f.slot))
	}
	if !f.until.IsZero() {
		d[wire.KeyUntil] = dbus.MakeVariant(micros(f.until))
	}
	if f.cred != "" {
		d[wire.KeyCredential] = dbus.MakeVariant(f.cred)
	}
	return d
}

func lockEventDetails(e lock.Event) map[string]dbus.Variant {
	return fact{time: e.Time, source: e.Source, reason: e.Reason, codeID: e.CodeID,
		codeKind: e.CodeKind, slot: e.Slot, uid: e.UID, until: e.Until, cred: e.Credential}.details()
}

// auditDetails describes an audit entry: as an Event's details, and with
// kind (and extra details) as a Codes1.Log entry.
func auditDetails(e codes.AuditEvent) map[string]dbus.Variant {
	d := fact{time: e.Time, source: e.Source, reason: e.Reason, codeID: e.CodeID,
		codeKind: e.CodeKind, slot: e.Slot, uid: e.UID, cred: e.Details[codes.DetailCredential]}.details()
	if len(e.Details) > 0 {
		d[wire.KeyDetails] = dbus.MakeVariant(e.Details)
	}
	return d
}

// micros is t in µs since the epoch; 0 for the zero time or before 1970.
func micros(t time.Time) uint64 {
	if t.IsZero() || t.UnixMicro() < 0 {
		return 0
	}
	return uint64(t.UnixMicro())
}

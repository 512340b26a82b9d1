package dbusapi

import (
	"context"
	"errors"
	"strings"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/lock"
)

// codes1 is io.lockd.Codes1: code management (admins) and the audit log
// (readers too). Codes cross the bus only as arguments of SetAdminCode and
// Add; nothing lockd returns holds digits or digests.
type codes1 struct{ s *Service }

// SetAdminCode sets the admin code; on an unprovisioned unit it
// provisions it and burns the setup code.
func (c codes1) SetAdminCode(msg dbus.Message, code string) *dbus.Error {
	return c.s.change(msg, "SetAdminCode", func(ctx context.Context) (codes.AuditEvent, *dbus.Error) {
		if derr := checkCode(code); derr != nil {
			return codes.AuditEvent{}, derr
		}
		kind := lock.EventAdminChanged
		if !c.s.cfg.Lock.Status().Provisioned {
			kind = lock.EventSetup
		}
		if err := c.s.cfg.Codes.SetAdmin(ctx, code, c.s.now()); err != nil {
			return codes.AuditEvent{}, codesError(err)
		}
		return codes.AuditEvent{Kind: kind, CodeKind: string(codes.KindAdmin)}, nil
	})
}

// Add stores a code under label and returns its id.
func (c codes1) Add(msg dbus.Message, label, code string, options map[string]dbus.Variant) (uint32, *dbus.Error) {
	var id uint32
	derr := c.s.change(msg, "Add", func(ctx context.Context) (codes.AuditEvent, *dbus.Error) {
		if derr := checkLabel(label); derr != nil {
			return codes.AuditEvent{}, derr
		}
		if derr := checkCode(code); derr != nil {
			return codes.AuditEvent{}, derr
		}
		o, derr := parseAddOptions(options)
		if derr != nil {
			return codes.AuditEvent{}, derr
		}
		info, err := c.s.cfg.Codes.Add(ctx, label, code, o)
		if err != nil {
			return codes.AuditEvent{}, codesError(err)
		}
		id = uint32(min(info.ID, maxID)) // sqlite ids of this table stay far below
		return codes.AuditEvent{Kind: lock.EventCodeAdded, CodeID: info.ID, CodeKind: string(info.Kind), Slot: info.Slot}, nil
	})
	return id, derr
}

// Remove deletes the code with that id (the admin code cannot be removed).
func (c codes1) Remove(msg dbus.Message, id uint32) *dbus.Error {
	return c.s.change(msg, "Remove", func(ctx context.Context) (codes.AuditEvent, *dbus.Error) {
		info, derr := c.s.find(ctx, id)
		if derr != nil {
			return codes.AuditEvent{}, derr
		}
		if err := c.s.cfg.Codes.Remove(ctx, int64(id)); err != nil {
			return codes.AuditEvent{}, codesError(err)
		}
		return codes.AuditEvent{Kind: lock.EventCodeRemoved, CodeID: info.ID, CodeKind: string(info.Kind), Slot: info.Slot}, nil
	})
}

// SetEnabled enables or disables a code without deleting it.
func (c codes1) SetEnabled(msg dbus.Message, id uint32, enabled bool) *dbus.Error {
	return c.s.change(msg, "SetEnabled", func(ctx context.Context) (codes.AuditEvent, *dbus.Error) {
		info, derr := c.s.find(ctx, id)
		if derr != nil {
			return codes.AuditEvent{}, derr
		}
		if err := c.s.cfg.Codes.SetEnabled(ctx, int64(id), enabled); err != nil {
			return codes.AuditEvent{}, codesError(err)
		}
		kind := wire.EventCodeDisabled
		if enabled {
			kind = wire.EventCodeEnabled
		}
		return codes.AuditEvent{Kind: kind, CodeID: info.ID, CodeKind: string(info.Kind), Slot: info.Slot}, nil
	})
}

// ResetLockout ends a keypad lockout and clears the failure count.
func (c codes1) ResetLockout(msg dbus.Message) *dbus.Error {
	return c.s.change(msg, "ResetLockout", func(ctx context.Context) (codes.AuditEvent, *dbus.Error) {
		if err := c.s.cfg.Codes.ResetLockout(ctx); err != nil {
			return codes.AuditEvent{}, codesError(err)
		}
		return codes.AuditEvent{Kind: wire.EventLockoutReset}, nil
	})
}

// change runs one Codes1 change for an authorised caller: fn makes it and
// describes it; change hands it to the lock core, which audits it,
// publishes it (the Event signal and the panel get it from there) and
// re-reads the store, and announces the properties that changed. Nothing
// is audited when fn fails (a refusal that counts, a colliding code, the
// store audits itself).
func (s *Service) change(msg dbus.Message, method string, fn func(context.Context) (codes.AuditEvent, *dbus.Error)) *dbus.Error {
	return s.changeIn(msg, wire.Codes1, method, fn)
}

// changeIn is change for a method of iface.
func (s *Service) changeIn(msg dbus.Message, iface, method string, fn func(context.Context) (codes.AuditEvent, *dbus.Error)) *dbus.Error {
	ctx, cancel, uid, derr := s.beginChange(msg, iface+"."+method)
	if derr != nil {
		return derr
	}
	defer cancel()
	if s.cfg.Codes == nil {
		return errStoreUnavailable
	}
	e, derr := fn(ctx)
	if derr != nil {
		// Even a refusal can change the lockout: a code that collides
		// with a stored one counts as a wrong entry (codes/probe.go).
		if err := s.cfg.Lock.Refresh(ctx); err != nil {
			s.log.Warn("dbusapi: lock core did not re-read the code store", "err", err)
		}
		s.syncProps()
		return derr
	}
	e.Source, e.UID = lock.SourceDBus, uid
	if err := s.cfg.Lock.Announce(ctx, lockEvent(e)); err != nil {
		if errors.Is(err, lock.ErrNotAnnounced) {
			s.audit(ctx, e) // recorded once either way: here only if the core has not
		}
		s.log.Warn("dbusapi: lock core did not re-read the code store", "err", err)
	}
	s.syncProps()
	return nil
}

// lockEvent is a Codes1 change as the lock core's event.
func lockEvent(e codes.AuditEvent) lock.Event {
	return lock.Event{Kind: e.Kind, Time: e.Time, Source: e.Source, Reason: e.Reason,
		CodeID: e.CodeID, CodeKind: e.CodeKind, Slot: e.Slot, UID: e.UID, Credential: e.Details[codes.DetailCredential]}
}

// find returns the code with that id, or InvalidArgs.
func (s *Service) find(ctx context.Context, id uint32) (codes.Info, *dbus.Error) {
	list, err := s.cfg.Codes.List(ctx)
	if err != nil {
		return codes.Info{}, codesError(err)
	}
	for _, i := range list {
		if i.ID == int64(id) {
			return i, nil
		}
	}
	return codes.Info{}, invalidArgs("no code with id %d", id)
}

// checkCode bounds a code argument before the store sees it; the store's
// CheckRule says which rule it breaks. The message never repeats it.
func checkCode(code string) *dbus.Error {
	if len(code) > codes.MaxDigits {
		return invalidArgs("code: at most %d digits", codes.MaxDigits)
	}
	if strings.Trim(code, "0123456789") != "" {
		return invalidArgs("code: only the digits 0-9 are allowed")
	}
	return nil
}

func codes1Spec() introspect.Interface {
	in := func(name, typ string) introspect.Arg { return introspect.Arg{Name: name, Type: typ, Direction: "in"} }
	out := func(name, typ string) introspect.Arg { return introspect.Arg{Name: name, Type: typ, Direction: "out"} }
	return introspect.Interface{
		Name: wire.Codes1,
		Methods: []introspect.Method{
			{Name: "SetAdminCode", Args: []introspect.Arg{in("code", "s")}},
			{Name: "Add", Args: []introspect.Arg{in("label", "s"), in("code", "s"), in("options", "a{sv}"), out("id", "u")}},
			{Name: "List", Args: []introspect.Arg{out("codes", "a(usa{sv})")}},
			{Name: "Remove", Args: []introspect.Arg{in("id", "u")}},
			{Name: "SetEnabled", Args: []introspect.Arg{in("id", "u"), in("enabled", "b")}},
			{Name: "ResetLockout"},
			{Name: "Log", Args: []introspect.Arg{in("after_id", "t"), in("limit", "u"), out("events", "a(ta{sv})")}},
		},
	}
}

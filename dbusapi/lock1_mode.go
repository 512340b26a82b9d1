package dbusapi

import (
	"context"
	"errors"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"

	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/lock"
)

// ModeControl is the lock core's operating mode and alarms (*lock.Core).
// Both return once the change is durable and change nothing on an error:
// lock.ErrBadMode, lock.ErrNotLocked, lock.ErrNoStateStore,
// lock.ErrBadAlarm, lock.ErrNotActive, or a store error. A Lock without
// it answers both methods with io.lockd.Error.Unavailable.
type ModeControl interface {
	SetOperatingMode(ctx context.Context, m lock.OperatingMode, source string, uid int) error
	AcknowledgeAlarm(ctx context.Context, a lock.Alarm, source string, uid int) error
}

// SetOperatingMode changes the operating mode (admins only, checked
// here whatever the policy says). An unknown mode is InvalidArgs naming
// the modes.
func (l lock1) SetOperatingMode(msg dbus.Message, mode string) *dbus.Error {
	return l.s.modeCall(msg, "SetOperatingMode", func(ctx context.Context, mc ModeControl, uid int) error {
		m, err := lock.ParseOperatingMode(mode)
		if err != nil {
			return err
		}
		return mc.SetOperatingMode(ctx, m, lock.SourceDBus, uid)
	})
}

// AcknowledgeAlarm acknowledges a listed alarm (admins only). An unknown
// alarm is InvalidArgs naming the alarms; one not listed is NotActive.
func (l lock1) AcknowledgeAlarm(msg dbus.Message, alarm string) *dbus.Error {
	return l.s.modeCall(msg, "AcknowledgeAlarm", func(ctx context.Context, mc ModeControl, uid int) error {
		a, err := lock.ParseAlarm(alarm)
		if err != nil {
			return err
		}
		return mc.AcknowledgeAlarm(ctx, a, lock.SourceDBus, uid)
	})
}

// modeCall authorises a caller before it looks at the argument, so an
// unprivileged caller learns nothing from the reply.
func (s *Service) modeCall(msg dbus.Message, method string, fn func(context.Context, ModeControl, int) error) *dbus.Error {
	ctx, cancel, uid, derr := s.beginChange(msg, wire.Lock1+"."+method)
	if derr != nil {
		return derr
	}
	defer cancel()
	mc, ok := s.cfg.Lock.(ModeControl)
	if !ok {
		return dbusError(wire.ErrUnavailable, "this lock has no operating modes or alarms")
	}
	if err := fn(ctx, mc, uid); err != nil {
		return modeError(err)
	}
	return nil
}

// modeError maps the errors of SetOperatingMode and AcknowledgeAlarm.
func modeError(err error) *dbus.Error {
	switch {
	case errors.Is(err, lock.ErrBadMode), errors.Is(err, lock.ErrBadAlarm):
		return dbusError(wire.ErrInvalidArgs, "%v", err)
	case errors.Is(err, lock.ErrNotLocked):
		return dbusError(wire.ErrNotLocked, "%v", err)
	case errors.Is(err, lock.ErrNotActive):
		return dbusError(wire.ErrNotActive, "%v", err)
	case errors.Is(err, lock.ErrNoStateStore):
		return dbusError(wire.ErrUnavailable, "%v", err)
	}
	return lockError(err)
}

// modeMethods are Lock1's methods of this file, for lock1Spec.
func modeMethods() []introspect.Method {
	in := func(name string) []introspect.Arg { return []introspect.Arg{{Name: name, Type: "s", Direction: "in"}} }
	return []introspect.Method{{Name: "SetOperatingMode", Args: in("mode")}, {Name: "AcknowledgeAlarm", Args: in("alarm")}}
}

// modeValues are the properties of this file, from a status.
func modeValues(st lock.Status) (mode string, alarms []string) {
	mode = string(st.OperatingMode)
	if mode == "" {
		mode = string(lock.ModeNormal)
	}
	alarms = []string{} // nil and empty must compare equal
	for _, a := range st.Alarms {
		alarms = append(alarms, string(a))
	}
	return mode, alarms
}

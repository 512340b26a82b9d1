package dbusapi

import (
	"context"
	"errors"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"

	"lockd.dev/lockd/dbusapi/wire"
)

// maxPress bounds Press: a person types a few dozen keys at most; each
// takes 250 ms on the simulated keypad, so 32 take 8 s.
const maxPress = 32

// sim1 is io.lockd.Simulator1, exported only with lockd --sim. It drives
// the simulated board, so the same authorisation applies as for Lock1:
// pressing the right keys opens the door.
type sim1 struct{ s *Service }

// Press types keys on the simulated keypad through the real scanner.
func (m sim1) Press(msg dbus.Message, keys string) *dbus.Error {
	return m.s.simulate(msg, "Press", func(context.Context) *dbus.Error {
		if keys == "" || len(keys) > maxPress {
			return invalidArgs("keys: 1 to %d keys", maxPress)
		}
		// Typing takes real time (8 s for 32 keys on the simulated
		// board), more than a call's usual bound; twice that, and 2 s,
		// stays inside a client's 25 s default.
		bound := 2*time.Second + 2*m.s.cfg.Sim.PressTime(len(keys))
		ctx, cancel := context.WithTimeout(m.s.base, bound)
		defer cancel()
		if err := m.s.cfg.Sim.Press(ctx, keys); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return dbusError(wire.ErrFailed, "typing %d keys did not finish within %v", len(keys), bound)
			}
			if ctx.Err() != nil {
				return callError(err)
			}
			return invalidArgs("%v", err) // a key the keypad does not have
		}
		return nil
	})
}

// SetDoor opens or closes the simulated door.
func (m sim1) SetDoor(msg dbus.Message, open bool) *dbus.Error {
	return m.s.simulate(msg, "SetDoor", func(context.Context) *dbus.Error {
		m.s.cfg.Sim.SetDoor(open)
		return nil
	})
}

// SetJam puts an obstacle in the bolt's way, or takes it away.
func (m sim1) SetJam(msg dbus.Message, jammed bool) *dbus.Error {
	return m.s.simulate(msg, "SetJam", func(context.Context) *dbus.Error {
		if err := m.s.cfg.Sim.SetJam(jammed); err != nil {
			return dbusError(wire.ErrFailed, "%v", err)
		}
		return nil
	})
}

func (s *Service) simulate(msg dbus.Message, method string, fn func(context.Context) *dbus.Error) *dbus.Error {
	ctx, cancel, _, derr := s.beginChange(msg, wire.Simulator1+"."+method)
	if derr != nil {
		return derr
	}
	defer cancel()
	return fn(ctx)
}

func sim1Spec() introspect.Interface {
	in := func(name, typ string) introspect.Arg { return introspect.Arg{Name: name, Type: typ, Direction: "in"} }
	spec := introspect.Interface{
		Name: wire.Simulator1,
		Methods: []introspect.Method{
			{Name: "Press", Args: []introspect.Arg{in("keys", "s")}},
			{Name: "SetDoor", Args: []introspect.Arg{in("open", "b")}},
			{Name: "SetJam", Args: []introspect.Arg{in("jammed", "b")}},
			{Name: "PresentCard", Args: []introspect.Arg{in("facility", "u"), in("number", "u")}},
		},
	}
	spec.Methods = append(spec.Methods, simAlarmMethods()...)
	return spec
}

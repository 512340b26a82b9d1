package dbusapi

import (
	"context"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"

	"lockd.dev/lockd/dbusapi/wire"
)

// AlarmSwitches are the simulated board's tamper switch and power-good
// line (*sim.Board). What follows goes through the real input drivers.
type AlarmSwitches interface {
	SetTamper(open bool)
	SetMains(present bool)
}

// SetTamper opens the simulated case (the tamper switch opens) or shuts
// it.
func (m sim1) SetTamper(msg dbus.Message, open bool) *dbus.Error {
	return m.switchCall(msg, "SetTamper", func(sw AlarmSwitches) { sw.SetTamper(open) })
}

// SetMains cuts the simulated mains (the power-good line drops) or
// restores it.
func (m sim1) SetMains(msg dbus.Message, present bool) *dbus.Error {
	return m.switchCall(msg, "SetMains", func(sw AlarmSwitches) { sw.SetMains(present) })
}

func (m sim1) switchCall(msg dbus.Message, method string, fn func(AlarmSwitches)) *dbus.Error {
	return m.s.simulate(msg, method, func(context.Context) *dbus.Error {
		sw, ok := m.s.cfg.Sim.(AlarmSwitches)
		if !ok {
			return dbusError(wire.ErrFailed, "this simulated board has no tamper switch or power-good line")
		}
		fn(sw)
		return nil
	})
}

// simAlarmMethods are Simulator1's methods of this file, for sim1Spec.
func simAlarmMethods() []introspect.Method {
	in := func(name string) []introspect.Arg { return []introspect.Arg{{Name: name, Type: "b", Direction: "in"}} }
	return []introspect.Method{{Name: "SetTamper", Args: in("open")}, {Name: "SetMains", Args: in("present")}}
}

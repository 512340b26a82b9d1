package dbusapi

import (
	"slices"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"

	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/lock"
)

const propertiesIface = "org.freedesktop.DBus.Properties"

// propNames are Lock1's properties in introspection order.
var propNames = []string{
	wire.PropState, wire.PropDoorOpen, wire.PropHasDoor, wire.PropProvisioned,
	wire.PropLockedOutUntil, wire.PropMode, wire.PropHealth,
}

// propValues maps a lock status to the property values.
func propValues(st lock.Status) map[string]any {
	var until uint64
	if !st.LockedOutUntil.IsZero() && st.LockedOutUntil.UnixMicro() > 0 {
		until = uint64(st.LockedOutUntil.UnixMicro())
	}
	health := st.Warnings()
	if health == nil {
		health = []string{} // nil and empty must compare equal
	}
	mode := st.Mode
	if mode == "" {
		mode = "idle"
	}
	return map[string]any{
		wire.PropState:          string(st.State),
		wire.PropDoorOpen:       st.DoorOpen,
		wire.PropHasDoor:        st.HasDoor,
		wire.PropProvisioned:    st.Provisioned,
		wire.PropLockedOutUntil: until,
		wire.PropMode:           mode,
		wire.PropHealth:         health,
	}
}

// lockProps is the initial prop.Map entry for Lock1. prop emits nothing
// itself (EmitFalse): syncProps sends one PropertiesChanged for all the
// properties that changed together, and a send that fails on a closed
// connection is logged, where prop.SetMust would panic. The introspection
// (lock1Spec) still says EmitsChangedSignal=true, which is what clients
// see.
func lockProps(st lock.Status) map[string]*prop.Prop {
	m := map[string]*prop.Prop{}
	for k, v := range propValues(st) {
		m[k] = &prop.Prop{Value: v, Emit: prop.EmitFalse}
	}
	return m
}

// syncProps re-reads the lock's status and announces what changed.
func (s *Service) syncProps() {
	s.propMu.Lock()
	defer s.propMu.Unlock()
	if s.props == nil {
		return // not exported (yet)
	}
	vals := propValues(s.cfg.Lock.Status())
	changed := map[string]dbus.Variant{}
	for _, name := range propNames {
		v := vals[name]
		if sameValue(s.props.GetMust(wire.Lock1, name), v) {
			continue
		}
		s.props.SetMust(wire.Lock1, name, v) // EmitFalse: cannot fail on the bus
		changed[name] = dbus.MakeVariant(v)
	}
	if len(changed) == 0 {
		return
	}
	err := s.conn.Emit(wire.ObjectPath, propertiesIface+".PropertiesChanged", wire.Lock1, changed, []string{})
	if err != nil {
		s.log.Warn("dbusapi: emit PropertiesChanged", "err", err)
	}
}

// sameValue compares property values; nil and empty string lists are the
// same (dbus.Store may turn one into the other).
func sameValue(a, b any) bool {
	as, aok := a.([]string)
	bs, bok := b.([]string)
	if aok || bok {
		return aok && bok && slices.Equal(as, bs)
	}
	return a == b
}

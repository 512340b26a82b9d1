package dbusapi

import (
	"reflect"
	"slices"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/lock"
)

const propertiesIface = "org.freedesktop.DBus.Properties"

// propNames are Lock1's properties in introspection order.
var propNames = []string{
	wire.PropState, wire.PropDoorOpen, wire.PropHasDoor, wire.PropProvisioned,
	wire.PropLockedOutUntil, wire.PropMode, wire.PropHealth, wire.PropOperatingMode, wire.PropAlarms,
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
	opMode, alarms := modeValues(st)
	return map[string]any{
		wire.PropOperatingMode:  opMode,
		wire.PropAlarms:         alarms,
		wire.PropState:          string(st.State),
		wire.PropDoorOpen:       st.DoorOpen,
		wire.PropHasDoor:        st.HasDoor,
		wire.PropProvisioned:    st.Provisioned,
		wire.PropLockedOutUntil: until,
		wire.PropMode:           mode,
		wire.PropHealth:         health,
	}
}

// syncProps re-reads the lock's status, and the updater's, and announces
// what changed.
//
// The values are a snapshot, replaced as a whole on a change, never
// changed in place, so a GetAll reply may still be encoding the old one.
func (s *Service) syncProps() {
	s.propMu.Lock()
	defer s.propMu.Unlock()
	if s.props == nil {
		return // not exported (yet)
	}
	vals := s.propMap()
	changed := map[string]map[string]dbus.Variant{}
	for _, iface := range []string{wire.Lock1, wire.Update1} {
		for _, name := range ifaceProps[iface] {
			v, ok := vals[iface][name]
			if !ok || sameValue(s.props[iface][name], v) {
				continue
			}
			if changed[iface] == nil {
				changed[iface] = map[string]dbus.Variant{}
			}
			changed[iface][name] = dbus.MakeVariant(v)
		}
	}
	if len(changed) == 0 {
		return
	}
	s.props = vals
	for _, iface := range []string{wire.Lock1, wire.Update1} {
		if len(changed[iface]) == 0 {
			continue
		}
		err := s.conn.Emit(wire.ObjectPath, propertiesIface+".PropertiesChanged", iface, changed[iface], []string{})
		if err != nil {
			s.log.Warn("dbusapi: emit PropertiesChanged", "interface", iface, "err", err)
		}
	}
}

// ifaceProps are the properties of each interface, in introspection order.
var ifaceProps = map[string][]string{wire.Lock1: propNames, wire.Update1: updatePropNames}

// propMap returns the current values of every exported property.
func (s *Service) propMap() map[string]map[string]any {
	vals := map[string]map[string]any{wire.Lock1: propValues(s.cfg.Lock.Status())}
	if s.cfg.Updater != nil {
		vals[wire.Update1] = updateValues(s.cfg.Updater.Status(), s.cfg.Updater.TrialCommitsAt())
	}
	return vals
}

// snapshot returns the exported values (nil when not exported).
func (s *Service) snapshot() map[string]map[string]any {
	s.propMu.Lock()
	defer s.propMu.Unlock()
	return s.props
}

// sameValue compares property values; nil and empty string lists are the
// same (dbus.Store may turn one into the other). Maps and lists of maps
// (Update1's) compare deeply.
func sameValue(a, b any) bool {
	as, aok := a.([]string)
	bs, bok := b.([]string)
	if aok || bok {
		return aok && bok && slices.Equal(as, bs)
	}
	return reflect.DeepEqual(a, b)
}

// Package lockbus is lockd-mqtt's side of lockd's D-Bus API: it follows
// lockd's state and events (reconnecting when the bus or lockd restarts)
// and calls Lock and Unlock, so lockd's own authorisation decides. It
// reads what lockd has: properties and interfaces a newer lockd adds
// (OperatingMode, Alarms, io.lockd.Update1) are optional, and absent
// ones are reported as absent, never as errors.
package lockbus

import (
	"time"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
)

// Properties of io.lockd.Lock1 that a lockd may not have yet (DESIGN.md
// "Names for the capabilities being added").
const (
	PropOperatingMode = "OperatingMode" // s: normal vacation privacy passage no-remote
	PropAlarms        = "Alarms"        // as: forced-open ajar tamper jammed wrong-entry-limit power
	// KeyLabel is the user's label in an event's details, once lockd
	// sends it; until then lockd-mqtt looks the code up in Codes1.List.
	KeyLabel = "label"
)

// Snapshot is lockd's state as lockd-mqtt publishes it.
type Snapshot struct {
	State          string // locked unlocked locking unlocking jammed unknown
	DoorOpen       bool
	HasDoor        bool
	Provisioned    bool
	LockedOutUntil time.Time // zero: no keypad lockout
	Mode           string
	Health         []string

	HasOperatingMode bool // lockd has OperatingMode
	OperatingMode    string
	HasAlarms        bool // lockd has Alarms
	Alarms           []string

	// Update is nil when lockd exports no io.lockd.Update1.
	Update *UpdateInfo
}

// UpdateInfo is what io.lockd.Update1 says about versions.
type UpdateInfo struct {
	Installed string // the booted slot's version; "" unknown
	Pending   string // the pending update's version; "" none
	Operation string
	Progress  int32
	LastError string
}

// Event is one Lock1.Event signal.
type Event struct {
	Kind   string
	Source string
	Reason string
	Time   time.Time
	CodeID uint32 // 0: none
	Slot   uint32 // 0: none
	UID    int32  // -1: not a D-Bus caller
	Label  string // the code's or user's label, when known
}

// Update is what Watcher.Run sends: a new snapshot, lockd gone, or an
// event.
type Update struct {
	// Snapshot is lockd's state; nil (with Event nil) when lockd cannot
	// be reached, and Why says why.
	Snapshot *Snapshot
	Why      string
	Event    *Event
}

// lock1Snapshot fills a Snapshot from Properties.GetAll of Lock1. Values
// of an unexpected type read as their zero: a lockd that changed a type
// must not stop the bridge.
func lock1Snapshot(p map[string]dbus.Variant) *Snapshot {
	s := &Snapshot{State: "unknown"}
	get(p, wire.PropState, &s.State)
	get(p, wire.PropDoorOpen, &s.DoorOpen)
	get(p, wire.PropHasDoor, &s.HasDoor)
	get(p, wire.PropProvisioned, &s.Provisioned)
	get(p, wire.PropMode, &s.Mode)
	get(p, wire.PropHealth, &s.Health)
	var until uint64
	if get(p, wire.PropLockedOutUntil, &until) && until > 0 && until < 1<<62 {
		s.LockedOutUntil = time.UnixMicro(int64(until))
	}
	s.HasOperatingMode = get(p, PropOperatingMode, &s.OperatingMode)
	s.HasAlarms = get(p, PropAlarms, &s.Alarms)
	return s
}

// update1Info reads Properties.GetAll of Update1.
func update1Info(p map[string]dbus.Variant) *UpdateInfo {
	u := &UpdateInfo{}
	get(p, wire.PropOperation, &u.Operation)
	get(p, wire.PropProgress, &u.Progress)
	get(p, wire.PropLastError, &u.LastError)
	var booted string
	get(p, wire.PropBootedSlot, &booted)
	var slots map[string]map[string]dbus.Variant
	get(p, wire.PropSlots, &slots)
	for name, s := range slots {
		var isBooted bool
		get(s, wire.KeyBooted, &isBooted)
		if name == booted || (booted == "" && isBooted) {
			get(s, wire.KeyVersion, &u.Installed)
		}
	}
	var pending map[string]dbus.Variant
	if get(p, wire.PropPending, &pending) {
		get(pending, wire.KeyVersion, &u.Pending)
	}
	return u
}

// eventOf reads an Event signal's body (s kind, a{sv} details).
func eventOf(body []any) (*Event, bool) {
	if len(body) != 2 {
		return nil, false
	}
	kind, ok1 := body[0].(string)
	d, ok2 := body[1].(map[string]dbus.Variant)
	if !ok1 || !ok2 {
		return nil, false
	}
	e := &Event{Kind: kind, UID: -1}
	get(d, wire.KeySource, &e.Source)
	get(d, wire.KeyReason, &e.Reason)
	get(d, wire.KeyCodeID, &e.CodeID)
	get(d, wire.KeySlot, &e.Slot)
	get(d, wire.KeyUID, &e.UID)
	get(d, KeyLabel, &e.Label)
	var t uint64
	if get(d, wire.KeyTime, &t) && t > 0 && t < 1<<62 {
		e.Time = time.UnixMicro(int64(t))
	}
	return e, true
}

// get stores p[key] into dst when it is there with dst's type.
func get[T any](p map[string]dbus.Variant, key string, dst *T) bool {
	v, ok := p[key]
	if !ok {
		return false
	}
	t, ok := v.Value().(T)
	if !ok {
		return false
	}
	*dst = t
	return true
}

package dbusapi_test

import (
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/internal/dbustest"
	"lockd.dev/lockd/lock"
)

// TestPropertiesWithRealClients reads every property with busctl and
// gdbus, as root and as a member of group lockd.
func TestPropertiesWithRealClients(t *testing.T) {
	r := newRig(t, rigOptions{})
	for _, u := range []dbustest.User{dbustest.Root, r.reader(), r.admin()} {
		for prop, want := range map[string]string{
			wire.PropState:          `s "locked"`,
			wire.PropDoorOpen:       "b false",
			wire.PropHasDoor:        "b true",
			wire.PropProvisioned:    "b false",
			wire.PropLockedOutUntil: "t 0",
			wire.PropMode:           `s "idle"`,
			wire.PropHealth:         "as 0",
		} {
			res := r.bus.Busctl(t, u, "get-property", wire.BusName, string(wire.ObjectPath), wire.Lock1, prop)
			if got := strings.TrimSpace(res.Stdout); !res.OK() || got != want {
				t.Errorf("%s: busctl get-property %s = %q (%v), want %q\n%s", u, prop, got, res.Err, want, res.Stderr)
			}
		}
		res := r.bus.Gdbus(t, u, "call", "--dest", wire.BusName, "--object-path", string(wire.ObjectPath),
			"--method", "org.freedesktop.DBus.Properties.GetAll", wire.Lock1)
		for _, want := range []string{"'State': <'locked'>", "'Provisioned': <false>", "'LockedOutUntil': <uint64 0>", "'Health': <@as []>"} {
			if !res.OK() || !strings.Contains(res.Stdout, want) {
				t.Errorf("%s: gdbus GetAll: no %s in %q (%v)\n%s", u, want, res.Stdout, res.Err, res.Stderr)
			}
		}
		// Peer is answered too.
		if res := r.bus.Busctl(t, u, "call", wire.BusName, string(wire.ObjectPath), "org.freedesktop.DBus.Peer", "Ping"); !res.OK() {
			t.Errorf("%s: Peer.Ping: %v\n%s", u, res.Err, res.Output())
		}
	}
	// Properties are read-only.
	res := r.bus.Busctl(t, dbustest.Root, "set-property", wire.BusName, string(wire.ObjectPath), wire.Lock1, wire.PropState, "s", "unlocked")
	if res.OK() {
		t.Error("set-property State succeeded")
	}
	if st := r.core.Status().State; st != lock.StateLocked {
		t.Errorf("state %s after a refused set-property", st)
	}
}

// TestLockUnlockSignals drives Lock1 with busctl and gdbus and watches the
// Event signals and PropertiesChanged with a godbus client and with
// `gdbus monitor`.
func TestLockUnlockSignals(t *testing.T) {
	r := newRig(t, rigOptions{})
	sigs := r.lockSignals(t)
	mon := r.bus.Spawn(t, r.reader(), "gdbus", "monitor", "--address", r.bus.Address, "--dest", wire.BusName)
	mon.WaitLine(t, "Monitoring signals")
	deaf := r.bus.Spawn(t, r.nobody(), "gdbus", "monitor", "--address", r.bus.Address, "--dest", wire.BusName)
	deaf.WaitLine(t, "Monitoring signals")

	r.mustCall(t, dbustest.Root, wire.Lock1, "Unlock")
	e := sigs.wait(t, "Event unlocking", eventOf(lock.EventUnlocking))
	d := e.Body[1].(map[string]dbus.Variant)
	if d[wire.KeySource].Value() != lock.SourceDBus || d[wire.KeyUID].Value() != int32(0) {
		t.Errorf("unlocking details %v, want source dbus, uid 0", d)
	}
	if _, ok := d[wire.KeyTime].Value().(uint64); !ok {
		t.Errorf("unlocking details %v: no time (t)", d)
	}
	sigs.wait(t, "State=unlocked", changed(wire.PropState, "unlocked"))
	sigs.wait(t, "Event unlocked", eventOf(lock.EventUnlocked))
	if p := r.board.Motor.Position(); p != sim.BoltUnlocked {
		t.Errorf("bolt at %v after Unlock, want unlocked", p)
	}

	// The door guard: Lock while the door is open waits for it to close.
	r.mustCall(t, dbustest.Root, wire.Simulator1, "SetDoor", "b", "true")
	sigs.wait(t, "DoorOpen=true", changed(wire.PropDoorOpen, true))
	res := r.bus.Gdbus(t, r.admin(), "call", "--dest", wire.BusName, "--object-path", string(wire.ObjectPath), "--method", wire.Lock1+".Lock")
	if res.OK() || !strings.Contains(res.Stderr, wire.ErrDoorOpen) {
		t.Errorf("Lock with the door open: %v %q, want %s", res.Err, res.Output(), wire.ErrDoorOpen)
	}
	sigs.wait(t, "Event lock-pending", eventOf(lock.EventLockPending))
	r.mustCall(t, r.admin(), wire.Simulator1, "SetDoor", "b", "false")
	sigs.wait(t, "State=locked", changed(wire.PropState, "locked"))
	e = sigs.wait(t, "Event locked", eventOf(lock.EventLocked))
	if d := e.Body[1].(map[string]dbus.Variant); d[wire.KeySource].Value() != lock.SourceDoor || d[wire.KeyUID].Value() != int32(-1) {
		t.Errorf("locked details %v, want source door, uid -1", d)
	}

	// A member of group lockd hears the signals with a real client.
	mon.WaitLine(t, "/io/lockd/Lock1: io.lockd.Lock1.Event ('unlocking',")
	mon.WaitLine(t, "/io/lockd/Lock1: org.freedesktop.DBus.Properties.PropertiesChanged ('io.lockd.Lock1', {'State': <'unlocked'>}")
	mon.WaitLine(t, "/io/lockd/Lock1: io.lockd.Lock1.Event ('locked',")
	// Someone in neither group hears nothing: the policy keeps lockd's
	// signals from them. (Both monitors got the same broadcasts, and the
	// reader's has seen the last.)
	for _, l := range deaf.Lines() {
		if strings.HasPrefix(l, string(wire.ObjectPath)+":") {
			t.Errorf("nobody heard %s", l)
		}
	}
}

// TestKeypadThroughSimulator types a code through Simulator1 (the real
// matrix scanner) and sees the grant, then a lockout and its reset.
func TestKeypadThroughSimulator(t *testing.T) {
	r := newRig(t, rigOptions{})
	sigs := r.lockSignals(t)
	r.provision(t)
	sigs.wait(t, "Provisioned=true", changed(wire.PropProvisioned, true))
	r.mustCall(t, dbustest.Root, wire.Codes1, "Add", "ssa{sv}", "front door", userCode, "0")

	r.mustCall(t, dbustest.Root, wire.Simulator1, "Press", "s", userCode+"#")
	e := sigs.wait(t, "Event granted", eventOf(lock.EventGranted))
	d := e.Body[1].(map[string]dbus.Variant)
	if d[wire.KeySlot].Value() != uint32(1) || d[wire.KeyCodeKind].Value() != "user" || d[wire.KeySource].Value() != lock.SourceKeypad {
		t.Errorf("granted details %v, want slot 1, kind user, source keypad", d)
	}
	for k, v := range d {
		if strings.Contains(v.String(), userCode) {
			t.Errorf("granted details carry the code's digits in %s=%v", k, v)
		}
	}

	// Five wrong codes lock the keypad out.
	r.mustCall(t, dbustest.Root, wire.Simulator1, "Press", "s", "9731#9731#9731#9731#9731#")
	sigs.wait(t, "Event lockout", eventOf(lock.EventLockout))
	sig := sigs.wait(t, "LockedOutUntil", func(s *dbus.Signal) bool {
		if s.Name != "org.freedesktop.DBus.Properties.PropertiesChanged" {
			return false
		}
		v, ok := s.Body[1].(map[string]dbus.Variant)[wire.PropLockedOutUntil]
		return ok && v.Value().(uint64) > 0
	})
	_ = sig
	r.mustCall(t, dbustest.Root, wire.Codes1, "ResetLockout")
	sigs.wait(t, "Event lockout-reset", eventOf(wire.EventLockoutReset))
	sigs.wait(t, "LockedOutUntil=0", changed(wire.PropLockedOutUntil, uint64(0)))
}

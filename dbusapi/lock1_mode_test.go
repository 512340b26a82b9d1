package dbusapi_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/google/go-cmp/cmp"

	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/internal/dbustest"
	"lockd.dev/lockd/lock"
)

// changedList matches a PropertiesChanged carrying name = want (as).
func changedList(name string, want ...string) func(*dbus.Signal) bool {
	return func(s *dbus.Signal) bool {
		if s.Name != "org.freedesktop.DBus.Properties.PropertiesChanged" || len(s.Body) != 3 || s.Body[0] != wire.Lock1 {
			return false
		}
		m, _ := s.Body[1].(map[string]dbus.Variant)
		got, ok := m[name].Value().([]string)
		return ok && slices.Equal(got, want)
	}
}

// TestOperatingModeOverDBus, with busctl and gdbus as root, as a member
// of lockd-admin and as a reader: only admins change the mode; the mode
// is a property that signals its changes; no-remote refuses Unlock even
// to root; an unknown mode is InvalidArgs listing the modes and changes
// nothing; passage unlocks.
func TestOperatingModeOverDBus(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.provision(t)
	sigs := r.lockSignals(t)
	if got := r.prop(t, wire.PropOperatingMode); got != "normal" {
		t.Fatalf("OperatingMode %v on a new unit, want normal", got)
	}
	res := r.call(t, r.reader(), wire.Lock1, "SetOperatingMode", "s", "passage")
	if res.OK() || !strings.Contains(res.Stderr, "Access denied") || r.core.Status().OperatingMode != lock.ModeNormal {
		t.Fatalf("reader set the mode: %v %q, mode %q", res.Err, res.Output(), r.core.Status().OperatingMode)
	}
	r.mustCall(t, r.admin(), wire.Lock1, "SetOperatingMode", "s", "no-remote")
	sigs.wait(t, "OperatingMode no-remote", changed(wire.PropOperatingMode, "no-remote"))
	sigs.wait(t, "operating-mode event", eventOf(lock.EventOperatingMode))
	res = r.call(t, dbustest.Root, wire.Lock1, "Unlock")
	if res.OK() || !strings.Contains(res.Output(), "no-remote") || r.core.Status().State != lock.StateLocked {
		t.Errorf("root Unlock in no-remote: %v %q, bolt %s", res.Err, res.Output(), r.core.Status().State)
	}
	res = r.gcall(t, dbustest.Root, wire.Lock1+".Unlock")
	if res.OK() || !strings.Contains(res.Stderr, wire.ErrOperatingMode) {
		t.Errorf("gdbus Unlock in no-remote: %v %q, want %s", res.Err, res.Output(), wire.ErrOperatingMode)
	}
	res = r.gcall(t, dbustest.Root, wire.Lock1+".SetOperatingMode", "'holiday'")
	if res.OK() || !strings.Contains(res.Stderr, wire.ErrInvalidArgs) ||
		!strings.Contains(res.Stderr, "normal, vacation, privacy, no-remote, passage") {
		t.Errorf("unknown mode: %v %q, want InvalidArgs listing the modes", res.Err, res.Output())
	}
	if got := r.prop(t, wire.PropOperatingMode); got != "no-remote" {
		t.Errorf("OperatingMode %v after a refused change, want no-remote", got)
	}
	// Codes for vacation mode: the option, and a wrong type refused.
	r.mustCall(t, dbustest.Root, wire.Codes1, "Add", "ssa{sv}", "sitter", "97531", "1", "vacation", "b", "true")
	res = r.call(t, dbustest.Root, wire.Codes1, "Add", "ssa{sv}", "x", "86420", "1", "vacation", "s", "yes")
	if res.OK() || !strings.Contains(res.Output(), "vacation") {
		t.Errorf("vacation option of the wrong type: %v %q", res.Err, res.Output())
	}
	r.mustCall(t, dbustest.Root, wire.Lock1, "SetOperatingMode", "s", "passage")
	sigs.wait(t, "State unlocked", changed(wire.PropState, "unlocked"))
	res = r.call(t, dbustest.Root, wire.Lock1, "SetOperatingMode", "s", "privacy")
	if res.OK() || !strings.Contains(res.Output(), "lock it first") {
		t.Errorf("privacy with the bolt unlocked: %v %q, want a refusal", res.Err, res.Output())
	}
}

// TestAlarmsOverDBus: a door forced on the simulated board and its tamper
// switch show in Alarms with their events; only admins acknowledge; an
// acknowledged tamper alarm stays listed until the case is shut.
func TestAlarmsOverDBus(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.provision(t)
	sigs := r.lockSignals(t)
	if got := r.prop(t, wire.PropAlarms); !cmp.Equal(got, []string{}) {
		t.Fatalf("Alarms %v on a new unit, want none", got)
	}
	r.mustCall(t, dbustest.Root, wire.Simulator1, "SetDoor", "b", "true")
	sigs.wait(t, "Alarms forced-open", changedList(wire.PropAlarms, "forced-open"))
	ev := sigs.wait(t, "alarm event", eventOf(lock.EventAlarm))
	if d, _ := ev.Body[1].(map[string]dbus.Variant); d[wire.KeyReason].Value() != "forced-open" {
		t.Errorf("alarm event details %v", d)
	}
	r.mustCall(t, dbustest.Root, wire.Simulator1, "SetDoor", "b", "false")
	r.mustCall(t, dbustest.Root, wire.Simulator1, "SetTamper", "b", "true")
	sigs.wait(t, "Alarms forced-open tamper", changedList(wire.PropAlarms, "forced-open", "tamper"))

	res := r.call(t, r.reader(), wire.Lock1, "AcknowledgeAlarm", "s", "forced-open")
	if res.OK() || !strings.Contains(res.Stderr, "Access denied") {
		t.Errorf("reader acknowledged: %v %q", res.Err, res.Output())
	}
	res = r.call(t, r.admin(), wire.Lock1, "AcknowledgeAlarm", "s", "smoke")
	if res.OK() || !strings.Contains(res.Output(), "forced-open, ajar, tamper, jammed, wrong-entry-limit, power") {
		t.Errorf("unknown alarm: %v %q, want InvalidArgs listing the alarms", res.Err, res.Output())
	}
	r.mustCall(t, r.admin(), wire.Lock1, "AcknowledgeAlarm", "s", "forced-open")
	sigs.wait(t, "Alarms tamper", changedList(wire.PropAlarms, "tamper"))
	r.mustCall(t, r.admin(), wire.Lock1, "AcknowledgeAlarm", "s", "tamper")
	if got := r.prop(t, wire.PropAlarms); !cmp.Equal(got, []string{"tamper"}) {
		t.Errorf("Alarms %v after acknowledging an open case, want tamper still listed", got)
	}
	r.mustCall(t, dbustest.Root, wire.Simulator1, "SetTamper", "b", "false")
	sigs.wait(t, "Alarms empty", changedList(wire.PropAlarms))
	var kinds []string
	for _, e := range r.log(t) {
		if k, _ := e.Details[wire.KeyKind].Value().(string); strings.HasPrefix(k, "alarm") {
			reason, _ := e.Details[wire.KeyReason].Value().(string)
			kinds = append(kinds, k+":"+reason)
		}
	}
	want := []string{"alarm:forced-open", "alarm:tamper", "alarm-acknowledged:forced-open",
		"alarm-acknowledged:tamper", "alarm-cleared:tamper"}
	if d := cmp.Diff(want, kinds); d != "" {
		t.Errorf("audit log (-want +got):\n%s", d)
	}
}

// TestWireNamesAreLocks: the names clients use (wire) are the lock's.
func TestWireNamesAreLocks(t *testing.T) {
	var modes, alarms []string
	for _, m := range lock.OperatingModes() {
		modes = append(modes, string(m))
	}
	for _, a := range lock.Alarms() {
		alarms = append(alarms, string(a))
	}
	if d := cmp.Diff(modes, wire.OperatingModes); d != "" {
		t.Errorf("wire.OperatingModes (-lock +wire):\n%s", d)
	}
	if d := cmp.Diff(alarms, wire.AlarmNames); d != "" {
		t.Errorf("wire.AlarmNames (-lock +wire):\n%s", d)
	}
}

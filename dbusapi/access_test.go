package dbusapi_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lockd.dev/lockd/dbusapi"
	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/internal/dbustest"
	"lockd.dev/lockd/lock"
)

// mutator is one call that changes state, with its arguments for busctl
// (signature first) and for gdbus (GVariant text).
type mutator struct {
	iface, method string
	args          []string
	gargs         []string
	// adminErr is the error an admin gets on the rig as it is (lockd let
	// the call through and refused it), "" for success.
	adminErr string
}

func (m mutator) String() string { return m.iface + "." + m.method }

// TestEveryMethodIsGated: every method lockd exports has a test that
// shows a caller without the right is refused by lockd itself: the reads
// in TestLockdChecksReads, the changes in mutators (TestLockdChecksItself)
// and Update1's in TestUpdateDenied and TestInstallFromURLDenied. A new
// method fails here until it joins one of them.
func TestEveryMethodIsGated(t *testing.T) {
	gated := map[string]bool{}
	for _, m := range mutators(1) {
		gated[m.iface+"."+m.method] = true
	}
	for _, m := range []string{wire.Codes1 + ".List", wire.Codes1 + ".Log", wire.Users1 + ".ListUsers",
		wire.Update1 + ".Install", wire.Update1 + ".InstallWithOptions", wire.Update1 + ".Approve",
		wire.Update1 + ".Reject", wire.Update1 + ".InstallFromURL"} {
		gated[m] = true
	}
	names := dbusapi.MethodNames()
	if len(names) < len(gated) {
		t.Fatalf("%d methods exported, %d gated: a gated method is gone", len(names), len(gated))
	}
	for _, name := range names {
		if !gated[name] {
			t.Errorf("%s: no test shows lockd refusing it to a caller without the right", name)
		}
	}
}

// mutators returns every method that changes anything; id is an existing
// user code.
func mutators(id uint32) []mutator {
	sid := strconv.FormatUint(uint64(id), 10)
	return []mutator{
		{wire.Lock1, "Unlock", nil, nil, ""},
		{wire.Lock1, "Lock", nil, nil, ""},
		{wire.Lock1, "SetOperatingMode", []string{"s", "vacation"}, []string{"'vacation'"}, ""},
		{wire.Lock1, "AcknowledgeAlarm", []string{"s", "tamper"}, []string{"'tamper'"}, wire.ErrNotActive},
		{wire.Codes1, "SetAdminCode", []string{"s", "246813"}, []string{"'246813'"}, ""},
		{wire.Codes1, "Add", []string{"ssa{sv}", "guest", "3691", "1", "kind", "s", "one-time"},
			[]string{"'guest'", "'3691'", "{'kind': <'one-time'>}"}, ""},
		{wire.Codes1, "SetEnabled", []string{"ub", sid, "false"}, []string{sid, "false"}, ""},
		{wire.Users1, "AddUser", []string{"sa{sv}", "nurse", "1", "kind", "s", "non-access"},
			[]string{"'nurse'", "{'kind': <'non-access'>}"}, ""},
		{wire.Users1, "AddCredential", []string{"ussa{sv}", sid, "card", "7:77", "0"}, []string{sid, "'card'", "'7:77'", "{}"}, ""},
		{wire.Users1, "SetUserEnabled", []string{"ub", sid, "true"}, []string{sid, "true"}, ""},
		{wire.Users1, "RemoveCredential", []string{"u", "999"}, []string{"999"}, wire.ErrInvalidArgs},
		{wire.Users1, "RemoveUser", []string{"u", "999"}, []string{"999"}, wire.ErrInvalidArgs},
		{wire.Codes1, "Remove", []string{"u", sid}, []string{sid}, ""},
		{wire.Codes1, "ResetLockout", nil, nil, ""},
		{wire.Simulator1, "Press", []string{"s", "*"}, []string{"'*'"}, ""},
		{wire.Simulator1, "SetDoor", []string{"b", "false"}, []string{"false"}, ""},
		{wire.Simulator1, "SetJam", []string{"b", "false"}, []string{"false"}, ""},
		{wire.Simulator1, "SetTamper", []string{"b", "false"}, []string{"false"}, ""},
		{wire.Simulator1, "SetMains", []string{"b", "true"}, []string{"true"}, ""},
		{wire.Simulator1, "PresentCard", []string{"uu", "1", "2"}, []string{"1", "2"}, ""},
		// Install needs a descriptor, which neither busctl nor gdbus
		// passes: update1_bus_test.go and TestUpdate1RealInstall call it.
		{wire.Update1, "Approve", nil, nil, wire.ErrNothingPending},
		{wire.Update1, "Reject", nil, nil, wire.ErrNothingPending},
	}
}

// snapshot is everything a mutator could change.
type snapshot struct {
	State       lock.State
	Mode        lock.OperatingMode
	Alarms      []lock.Alarm
	DoorOpen    bool
	Provisioned bool
	Locked      bool // LockedOutUntil set
	Codes       []string
	Changes     []string // audit entries other than denials
	Bolt        float64
	Update      string // the updater's operation, slots and pending update
}

func (r *rig) snapshot(t *testing.T) snapshot {
	t.Helper()
	st := r.core.Status()
	s := snapshot{State: st.State, Mode: st.OperatingMode, Alarms: st.Alarms, DoorOpen: st.DoorOpen, Provisioned: st.Provisioned,
		Locked: !st.LockedOutUntil.IsZero(), Bolt: r.board.Motor.Position()}
	if r.unit != nil {
		u := r.unit.upd.Status()
		s.Update = fmt.Sprintf("%s %v %+v", u.Operation, u.Slots, u.Pending)
	}
	for _, c := range r.list(t) {
		s.Codes = append(s.Codes, fmt.Sprintf("%d %s %v", c.ID, c.Label, c.Details[wire.KeyEnabled]))
	}
	for _, e := range r.log(t) {
		if k := e.Details[wire.KeyKind].Value(); k != wire.EventAccessDenied {
			s.Changes = append(s.Changes, fmt.Sprintf("%d %v", e.ID, k))
		}
	}
	return s
}

// setupCodes provisions the unit and adds one user code; it returns its id.
func (r *rig) setupCodes(t *testing.T) uint32 {
	t.Helper()
	r.provision(t)
	out := r.mustCall(t, dbustest.Root, wire.Codes1, "Add", "ssa{sv}", "front door", userCode, "0")
	id, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(out), "u "), 10, 32)
	if err != nil {
		t.Fatalf("Add returned %q", out)
	}
	return uint32(id)
}

// TestPolicy checks the shipped policy with real clients: everyone but
// root and lockd-admin is refused by the bus before lockd sees the call,
// and nothing changes; group lockd reads.
func TestPolicy(t *testing.T) {
	r := newRig(t, rigOptions{})
	id := r.setupCodes(t)
	before := r.snapshot(t)
	for _, u := range []dbustest.User{r.nobody(), r.reader()} {
		for _, m := range mutators(id) {
			res := r.call(t, u, m.iface, m.method, m.args...)
			if res.OK() || !strings.Contains(res.Stderr, "Access denied") {
				t.Errorf("%s: %s: %v %q, want the bus's access denied", u, m, res.Err, res.Output())
			}
		}
		// Through the other clients too.
		res := r.bus.Gdbus(t, u, "call", "--dest", wire.BusName, "--object-path", string(wire.ObjectPath), "--method", wire.Lock1+".Unlock")
		if res.OK() || !strings.Contains(res.Stderr, wire.ErrAccessDenied) {
			t.Errorf("%s: gdbus Unlock: %v %q, want %s", u, res.Err, res.Output(), wire.ErrAccessDenied)
		}
		res = r.bus.DBusSend(t, u, "--print-reply", "--dest="+wire.BusName, string(wire.ObjectPath), wire.Lock1+".Unlock")
		if res.OK() || !strings.Contains(res.Stderr, wire.ErrAccessDenied) {
			t.Errorf("%s: dbus-send Unlock: %v %q, want %s", u, res.Err, res.Output(), wire.ErrAccessDenied)
		}
		// The code and user lists are for admins only.
		if res := r.call(t, u, wire.Codes1, "List"); res.OK() {
			t.Errorf("%s: List allowed: %s", u, res.Stdout)
		}
		if res := r.call(t, u, wire.Users1, "ListUsers"); res.OK() {
			t.Errorf("%s: ListUsers allowed: %s", u, res.Stdout)
		}
	}
	if diff := cmp.Diff(before, r.snapshot(t)); diff != "" {
		t.Errorf("refused calls changed something (-before +after):\n%s", diff)
	}
	// The bus refused them: lockd never saw them, so audited none.
	for _, e := range r.log(t) {
		if e.Details[wire.KeyKind].Value() == wire.EventAccessDenied {
			t.Errorf("lockd saw a call the policy should have refused: %v", e.Details)
		}
	}
	if !strings.Contains(r.bus.Stderr(), `Rejected send message`) {
		t.Error("dbus-daemon logged no rejection")
	}

	// Nobody reads nothing; group lockd reads properties, introspects and
	// reads the log.
	reads := []struct {
		name string
		args []string
	}{
		{"get-property", []string{"get-property", wire.BusName, string(wire.ObjectPath), wire.Lock1, wire.PropState}},
		{"GetAll", []string{"call", wire.BusName, string(wire.ObjectPath), "org.freedesktop.DBus.Properties", "GetAll", "s", wire.Lock1}},
		{"introspect", []string{"introspect", wire.BusName, string(wire.ObjectPath)}},
		{"Peer.Ping", []string{"call", wire.BusName, string(wire.ObjectPath), "org.freedesktop.DBus.Peer", "Ping"}},
		{"Log", []string{"call", wire.BusName, string(wire.ObjectPath), wire.Codes1, "Log", "tu", "0", "10"}},
	}
	for _, rd := range reads {
		if res := r.bus.Busctl(t, r.reader(), rd.args...); !res.OK() {
			t.Errorf("group lockd: %s refused: %v\n%s", rd.name, res.Err, res.Output())
		}
		if res := r.bus.Busctl(t, r.nobody(), rd.args...); res.OK() {
			t.Errorf("nobody: %s allowed:\n%s", rd.name, res.Stdout)
		}
	}
	if res := r.bus.Gdbus(t, r.reader(), "introspect", "--dest", wire.BusName, "--object-path", string(wire.ObjectPath)); !res.OK() {
		t.Errorf("group lockd: gdbus introspect: %v\n%s", res.Err, res.Output())
	}
}

// TestAdminMayChange runs every mutating method as an unprivileged member
// of lockd-admin, and checks the audit log names the caller.
func TestAdminMayChange(t *testing.T) {
	r := newRig(t, rigOptions{})
	id := r.setupCodes(t)
	for _, m := range mutators(id) {
		if m.adminErr != "" {
			res := r.gcall(t, r.admin(), m.iface+"."+m.method, m.gargs...)
			if res.OK() || !strings.Contains(res.Stderr, m.adminErr) {
				t.Errorf("lockd-admin: %s: %v %q, want %s", m, res.Err, res.Output(), m.adminErr)
			}
			continue
		}
		if res := r.call(t, r.admin(), m.iface, m.method, m.args...); !res.OK() {
			t.Errorf("lockd-admin: %s: %v\n%s", m, res.Err, res.Output())
		}
	}
	if got := r.list(t); len(got) != 2 || got[1].Label != "guest" {
		t.Errorf("codes after the admin's changes: %v, want the admin code and guest", got)
	}
	want := map[string]bool{lock.EventAdminChanged: true, lock.EventCodeAdded: true, wire.EventCodeDisabled: true,
		lock.EventCodeRemoved: true, wire.EventLockoutReset: true, lock.EventUnlocking: true}
	for _, e := range r.log(t) {
		k := e.Details[wire.KeyKind].Value().(string)
		if want[k] && e.Details[wire.KeyUID].Value() == int32(dbustest.Nobody) {
			delete(want, k)
		}
	}
	if len(want) > 0 {
		t.Errorf("audit log has no entry with uid %d for %v", dbustest.Nobody, want)
	}
}

// TestLockdChecksItself opens the policy to everyone, as a policy file
// edited by mistake would: lockd still refuses every change to a caller
// that is neither root nor in lockd-admin, audits it, and changes nothing.
func TestLockdChecksItself(t *testing.T) {
	r := newRig(t, rigOptions{extraPolicy: dbustest.OpenPolicy})
	id := r.setupCodes(t)
	before := r.snapshot(t)
	denials := 0
	for _, u := range []dbustest.User{r.nobody(), r.reader()} {
		for _, m := range mutators(id) {
			// gdbus prints the error's name and message (busctl only
			// strerror(EACCES)).
			res := r.gcall(t, u, m.iface+"."+m.method, m.gargs...)
			if res.OK() || !strings.Contains(res.Stderr, wire.ErrAccessDenied+": "+m.String()+" changes the lock: only root and members of group lockd-admin") {
				t.Errorf("%s: %s: %v %q, want lockd's own access denied", u, m, res.Err, res.Output())
			}
			denials++
		}
	}
	if diff := cmp.Diff(before, r.snapshot(t)); diff != "" {
		t.Errorf("denied calls changed something (-before +after):\n%s", diff)
	}
	var audited []string
	for _, e := range r.log(t) {
		if e.Details[wire.KeyKind].Value() == wire.EventAccessDenied {
			if uid := e.Details[wire.KeyUID].Value(); uid != int32(dbustest.Nobody) {
				t.Errorf("access-denied audited with uid %v, want %d", uid, dbustest.Nobody)
			}
			for range auditCount(t, e) { // repeats of one denial are one row with a count
				audited = append(audited, e.Details[wire.KeyReason].Value().(string))
			}
		}
	}
	if len(audited) != denials {
		t.Errorf("%d denials audited, want %d: %v", len(audited), denials, audited)
	}
	if len(audited) > 0 && audited[0] != wire.Lock1+".Unlock" {
		t.Errorf("first denial audited as %q, want the method %s.Unlock", audited[0], wire.Lock1)
	}
	// An admin is still let through.
	r.mustCall(t, r.admin(), wire.Lock1, "Unlock")
}

// TestLockdChecksReads opens the policy to everyone, as a policy file
// edited by mistake would: lockd still shows the code list only to
// admins, and the lock's state and the audit log only to admins and
// group lockd, as the README says.
func TestLockdChecksReads(t *testing.T) {
	r := newRig(t, rigOptions{extraPolicy: dbustest.OpenPolicy})
	r.setupCodes(t)
	reads := []struct {
		name    string
		args    []string
		readers bool // group lockd may
	}{
		{"Codes1.List", []string{"call", wire.BusName, string(wire.ObjectPath), wire.Codes1, "List"}, false},
		{"Users1.ListUsers", []string{"call", wire.BusName, string(wire.ObjectPath), wire.Users1, "ListUsers"}, false},
		{"Codes1.Log", []string{"call", wire.BusName, string(wire.ObjectPath), wire.Codes1, "Log", "tu", "0", "10"}, true},
		{"Properties.GetAll", []string{"call", wire.BusName, string(wire.ObjectPath), "org.freedesktop.DBus.Properties", "GetAll", "s", wire.Lock1}, true},
		{"Properties.Get", []string{"get-property", wire.BusName, string(wire.ObjectPath), wire.Lock1, wire.PropState}, true},
		{"Update1 properties", []string{"call", wire.BusName, string(wire.ObjectPath), "org.freedesktop.DBus.Properties", "GetAll", "s", wire.Update1}, true},
	}
	for _, rd := range reads {
		for _, c := range []struct {
			u       dbustest.User
			allowed bool
		}{{r.nobody(), false}, {r.reader(), rd.readers}, {r.admin(), true}} {
			u, allowed := c.u, c.allowed
			res := r.bus.Busctl(t, u, rd.args...)
			if res.OK() != allowed {
				t.Errorf("%s: %s: %v %q, want allowed %v", u, rd.name, res.Err, res.Output(), allowed)
			}
		}
	}
	// gdbus shows lockd's own refusal, naming who may read.
	res := r.gcall(t, r.reader(), wire.Codes1+".List")
	if res.OK() || !strings.Contains(res.Stderr, wire.ErrAccessDenied+": "+wire.Codes1+".List reads the lock's codes: only root and members of group lockd-admin may call it") {
		t.Errorf("group lockd List: %v %q, want lockd's own access denied", res.Err, res.Output())
	}
	res = r.bus.Gdbus(t, r.nobody(), "call", "--dest", wire.BusName, "--object-path", string(wire.ObjectPath),
		"--method", "org.freedesktop.DBus.Properties.GetAll", wire.Lock1)
	if res.OK() || !strings.Contains(res.Stderr, "only root and members of group lockd-admin or lockd may call it") {
		t.Errorf("nobody GetAll: %v %q, want lockd's own access denied", res.Err, res.Output())
	}
	denied := 0
	for _, e := range r.log(t) {
		if e.Details[wire.KeyKind].Value() == wire.EventAccessDenied {
			n := 1 // the store folds repeats into one entry with a count
			if d, ok := e.Details[wire.KeyDetails].Value().(map[string]string); ok && d["count"] != "" {
				n, _ = strconv.Atoi(d["count"])
			}
			denied += n
		}
	}
	if want := 2*2 + 4 + 1 + 1; denied != want { // List and ListUsers twice, nobody's four others, then the two gdbus calls
		t.Errorf("%d denials audited, want %d", denied, want)
	}
}

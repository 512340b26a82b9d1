package dbusapi_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/google/go-cmp/cmp"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/dbusapi/busguard"
	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/internal/dbustest"
)

const mib = 1 << 20

// TestHostileArguments sends what a confused or hostile admin client
// might: every call gets InvalidArgs with a reason, or LimitsExceeded for
// a call too large to read, and nothing changes.
func TestHostileArguments(t *testing.T) {
	r := newRig(t, rigOptions{})
	id := r.setupCodes(t)
	adminID := r.list(t)[0].ID
	opt := func(kv ...any) map[string]dbus.Variant {
		m := map[string]dbus.Variant{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = dbus.MakeVariant(kv[i+1])
		}
		return m
	}
	none := opt()
	// Long strings: lockd reads a call of up to busguard.DefaultMaxBody
	// and refuses what it holds; a larger call it refuses unread.
	long := []struct {
		name   string
		method string
		args   func(s string) []any
		reason string // InvalidArgs reason under the bound
	}{
		{"admin code", "io.lockd.Codes1.SetAdminCode", func(s string) []any { return []any{s} }, "at most 12 digits"},
		{"code", "io.lockd.Codes1.Add", func(s string) []any { return []any{"x", s, none} }, "at most 12 digits"},
		{"label", "io.lockd.Codes1.Add", func(s string) []any { return []any{s, "3691", none} }, "label"},
		{"option key", "io.lockd.Codes1.Add", func(s string) []any { return []any{"x", "3691", opt(s, "user")} }, "unknown option"},
		{"option value", "io.lockd.Codes1.Add", func(s string) []any { return []any{"x", "3691", opt("kind", s)} }, "option kind"},
		{"weekdays", "io.lockd.Codes1.Add", func(s string) []any { return []any{"x", "3691", opt("kind", "scheduled", "weekdays", s)} }, "option weekdays"},
		{"keys", "io.lockd.Simulator1.Press", func(s string) []any { return []any{s} }, "keys"},
		{"log after_id", "io.lockd.Codes1.Log", nil, ""}, // no string argument: only the body bound applies (below)
	}
	cases := []struct {
		name   string
		method string
		args   []any
		reason string // in the error message
	}{
		// Wrong types and counts (godbus refuses them before lockd's code).
		{"Lock with an argument", "io.lockd.Lock1.Lock", []any{"now"}, ""},
		{"Remove id as string", "io.lockd.Codes1.Remove", []any{"1"}, ""},
		{"Remove id as int64", "io.lockd.Codes1.Remove", []any{int64(1)}, ""},
		{"SetEnabled missing bool", "io.lockd.Codes1.SetEnabled", []any{id}, ""},
		{"Add options a{ss}", "io.lockd.Codes1.Add", []any{"x", "3691", map[string]string{"kind": "user"}}, "Add takes (ssa{sv}), not (ssa{ss})"},
		{"Log after as u", "io.lockd.Codes1.Log", []any{uint32(0), uint32(1)}, "Log takes (tu), not (uu)"},
		{"SetDoor as string", "io.lockd.Simulator1.SetDoor", []any{"open"}, ""},
		// Codes that are not codes.
		{"code with letters", "io.lockd.Codes1.Add", []any{"x", "36a1", none}, "digits"},
		{"fullwidth digits", "io.lockd.Codes1.Add", []any{"x", "３６９１", none}, "digits"},
		{"code with newline", "io.lockd.Codes1.Add", []any{"x", "3691\n", none}, "digits"},
		{"empty admin code", "io.lockd.Codes1.SetAdminCode", []any{""}, "too short"},
		{"weak admin code", "io.lockd.Codes1.SetAdminCode", []any{"123456"}, "sequence"},
		{"common code", "io.lockd.Codes1.Add", []any{"x", "1212", none}, "common"},
		// A code that collides with a stored one is refused too, but it is a
		// guess and counts: TestCollidingCodesCount.
		// Labels.
		{"label 65 bytes", "io.lockd.Codes1.Add", []any{strings.Repeat("a", 65), "3691", none}, "label"},
		{"label with escape", "io.lockd.Codes1.Add", []any{"\x1b[31mred", "3691", none}, "label"},
		// Options.
		{"unknown option", "io.lockd.Codes1.Add", []any{"x", "3691", opt("colour", "red")}, `unknown option "colour"`},
		{"kind as u", "io.lockd.Codes1.Add", []any{"x", "3691", opt("kind", uint32(1))}, "option kind: want type s, got u"},
		{"unknown kind", "io.lockd.Codes1.Add", []any{"x", "3691", opt("kind", "root")}, "option kind: want user, scheduled, expiring, one-time, limited, duress, non-access or after-first-use"},
		{"kind admin", "io.lockd.Codes1.Add", []any{"x", "369147", opt("kind", "admin")}, "SetAdmin"},
		{"uses as s", "io.lockd.Codes1.Add", []any{"x", "3691", opt("kind", "limited", "uses", "3")}, "option uses: want type u"},
		{"uses too many", "io.lockd.Codes1.Add", []any{"x", "3691", opt("kind", "limited", "uses", uint32(math.MaxUint32))}, "option uses"},
		{"valid_from as i", "io.lockd.Codes1.Add", []any{"x", "3691", opt("kind", "expiring", "valid_from", int32(5))}, "option valid_from: want type t"},
		{"valid_until overflow", "io.lockd.Codes1.Add", []any{"x", "3691", opt("kind", "expiring", "valid_until", uint64(math.MaxUint64))}, "option valid_until"},
		{"valid_from after until", "io.lockd.Codes1.Add", []any{"x", "3691", opt("kind", "expiring", "valid_from", uint64(2e15), "valid_until", uint64(1e15))}, "before"},
		{"weekdays as ai", "io.lockd.Codes1.Add", []any{"x", "3691", opt("kind", "scheduled", "weekdays", []int32{1})}, "option weekdays: want type s or as"},
		{"bad weekday", "io.lockd.Codes1.Add", []any{"x", "3691", opt("kind", "scheduled", "weekdays", "mon,funday")}, "option weekdays"},
		{"bad time", "io.lockd.Codes1.Add", []any{"x", "3691", opt("kind", "scheduled", "weekdays", []string{"mon"}, "from", "25:00")}, "option from"},
		{"schedule on a user code", "io.lockd.Codes1.Add", []any{"x", "3691", opt("from", "08:00")}, "schedule"},
		{"one-time with 5 uses", "io.lockd.Codes1.Add", []any{"x", "3691", opt("kind", "one-time", "uses", uint32(5))}, "one use"},
		// Ids that do not exist.
		{"remove id 0", "io.lockd.Codes1.Remove", []any{uint32(0)}, "no code with id 0"},
		{"remove missing id", "io.lockd.Codes1.Remove", []any{uint32(999)}, "no code with id 999"},
		{"remove max id", "io.lockd.Codes1.Remove", []any{uint32(math.MaxUint32)}, "no code"},
		{"enable missing id", "io.lockd.Codes1.SetEnabled", []any{uint32(999), true}, "no code with id 999"},
		{"remove the admin code", "io.lockd.Codes1.Remove", []any{adminID}, "admin code"},
		{"disable the admin code", "io.lockd.Codes1.SetEnabled", []any{adminID, false}, "admin code"},
		// Keys and the log.
		{"no keys", "io.lockd.Simulator1.Press", []any{""}, "keys"},
		{"33 keys", "io.lockd.Simulator1.Press", []any{strings.Repeat("*", 33)}, "keys"},
		{"key not on the keypad", "io.lockd.Simulator1.Press", []any{"12x#"}, "no key"},
		{"log after 2^63", "io.lockd.Codes1.Log", []any{uint64(1 << 63), uint32(1)}, "after_id"},
	}
	under := strings.Repeat("7", busguard.DefaultMaxBody-1024)
	for _, l := range long {
		if l.args == nil {
			continue
		}
		cases = append(cases, struct {
			name   string
			method string
			args   []any
			reason string
		}{l.name + " just under the bound", l.method, l.args(under), l.reason})
	}
	before := r.snapshot(t)
	// Over the bound: refused unread, with a reason that names the bound
	// and not the data.
	big := strings.Repeat("7", mib)
	for _, l := range long {
		args := []any{uint64(0), uint32(1), big}
		if l.args != nil {
			args = l.args(big)
		}
		err := r.obj.Call(l.method, 0, args...).Err
		var de dbus.Error
		if !errors.As(err, &de) || de.Name != wire.ErrLimitsExceeded {
			t.Errorf("%s 1 MiB: got %v, want %s", l.name, err, wire.ErrLimitsExceeded)
			continue
		}
		msg, _ := de.Body[0].(string)
		if want := fmt.Sprintf("this service takes at most %d", busguard.DefaultMaxBody); !strings.Contains(msg, want) || !strings.HasPrefix(msg, l.method+": ") {
			t.Errorf("%s 1 MiB: reason %q, want the method and %q", l.name, msg, want)
		}
		if len(msg) > 300 || strings.Contains(msg, "777") {
			t.Errorf("%s 1 MiB: reason %q echoes what the caller sent", l.name, msg)
		}
	}
	for _, c := range cases {
		err := r.obj.Call(c.method, 0, c.args...).Err
		var de dbus.Error
		if !errors.As(err, &de) || de.Name != wire.ErrInvalidArgs {
			t.Errorf("%s: got %v, want %s", c.name, err, wire.ErrInvalidArgs)
			continue
		}
		msg, _ := de.Body[0].(string)
		if !strings.Contains(msg, c.reason) || msg == "" {
			t.Errorf("%s: reason %q, want one containing %q", c.name, msg, c.reason)
		}
		if len(msg) > 300 {
			t.Errorf("%s: reason of %d bytes: it must not echo what the caller sent", c.name, len(msg))
		}
		if strings.Count(msg, "want") > 1 || strings.Contains(msg, "funday") {
			t.Errorf("%s: reason %q says what it wants twice, or repeats the value sent", c.name, msg)
		}
		if strings.Contains(msg, "3691") || strings.Contains(msg, userCode) || strings.Contains(msg, "369147") {
			t.Errorf("%s: reason %q repeats the code", c.name, msg)
		}
	}
	if diff := cmp.Diff(before, r.snapshot(t)); diff != "" {
		t.Errorf("refused calls changed something (-before +after):\n%s", diff)
	}
	// The same with the command-line clients.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"Remove", "s", "1"}, "Invalid"},
		{[]string{"Add", "ssa{ss}", "x", "3691", "1", "kind", "user"}, "Add takes (ssa{sv}), not (ssa{ss})"},
		{[]string{"Add", "ssa{sv}", "x", "3691", "1", "colour", "s", "red"}, `unknown option "colour"`},
		{[]string{"Remove", "u", "424242"}, "no code with id 424242"},
	} {
		// busctl prints the message, not the error name.
		res := r.call(t, dbustest.Root, wire.Codes1, c.args[0], c.args[1:]...)
		if res.OK() || !strings.Contains(res.Stderr, c.want) {
			t.Errorf("busctl %v: %v %q, want %q", c.args, res.Err, res.Output(), c.want)
		}
	}
	res := r.bus.DBusSend(t, dbustest.Root, "--print-reply", "--dest="+wire.BusName, string(wire.ObjectPath), wire.Codes1+".Remove", "string:7")
	if res.OK() || !strings.Contains(res.Stderr, wire.ErrInvalidArgs) {
		t.Errorf("dbus-send Remove(string): %v %q", res.Err, res.Output())
	}
	res = r.gcall(t, dbustest.Root, wire.Codes1+".Add", "'x'", "'3691'", "{'kind': <uint32 1>}")
	if res.OK() || !strings.Contains(res.Stderr, wire.ErrInvalidArgs+": option kind: want type s, got u") {
		t.Errorf("gdbus Add with kind as u: %v %q", res.Err, res.Output())
	}
	if diff := cmp.Diff(before, r.snapshot(t)); diff != "" {
		t.Errorf("refused calls changed something (-before +after):\n%s", diff)
	}
}

// TestNULBytes sends strings with NUL bytes. D-Bus forbids them in
// strings, so dbus-daemon rejects such a message itself; what matters is
// that nothing reaches the store and nothing changes. (The service also
// refuses them itself: see TestHandlersRefuseNUL.)
func TestNULBytes(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.setupCodes(t)
	before := r.snapshot(t)
	for _, args := range [][]any{
		{"3691\x00", map[string]dbus.Variant{}},
		{"36\x0091", map[string]dbus.Variant{}},
	} {
		c := r.bus.Conn(t) // the bus may drop a connection that sent an invalid message
		err := c.Object(wire.BusName, wire.ObjectPath).Call(wire.Codes1+".Add", 0, append([]any{"nul"}, args...)...).Err
		if err == nil {
			t.Errorf("Add(%q) succeeded", args[0])
		}
		t.Logf("Add(%q): %v", args[0], err)
	}
	if err := r.client.Object(wire.BusName, wire.ObjectPath).Call(wire.Codes1+".Add", 0, "nul\x00label", "3691", map[string]dbus.Variant{}).Err; err == nil {
		t.Error("Add with a NUL in the label succeeded")
	}
	r.client = r.bus.Conn(t)
	r.obj = r.client.Object(wire.BusName, wire.ObjectPath)
	if diff := cmp.Diff(before, r.snapshot(t)); diff != "" {
		t.Errorf("calls with NUL bytes changed something (-before +after):\n%s", diff)
	}
}

// TestCollidingCodesCount: an admin adding a code that is stored, or that
// starts or ends one, gets InvalidArgs with the reason, and the attempt
// counts as a wrong entry (it would otherwise tell them a user's digits):
// the store's failure count goes up and the audit log says "collision".
// Threshold attempts lock the keypad out, and LockedOutUntil shows it.
func TestCollidingCodesCount(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.setupCodes(t)
	none := map[string]dbus.Variant{}
	for i, code := range []string{userCode, userCode + "1", userCode, userCode + "2", userCode} {
		err := r.obj.Call(wire.Codes1+".Add", 0, "probe", code, none).Err
		var de dbus.Error
		if !errors.As(err, &de) || (i < codes.DefaultThreshold-1 && de.Name != wire.ErrInvalidArgs) {
			t.Fatalf("probe %d: %v, want %s", i+1, err, wire.ErrInvalidArgs)
		}
		if msg, _ := de.Body[0].(string); !strings.Contains(msg, "counted as a wrong entry") || strings.Contains(msg, userCode) {
			t.Errorf("probe %d: reason %q", i+1, msg)
		}
	}
	collisions := 0
	for _, e := range r.log(t) {
		if e.Details[wire.KeyReason].Value() == codes.ReasonCollision {
			collisions++
		}
	}
	if collisions != codes.DefaultThreshold {
		t.Errorf("%d collisions audited, want %d", collisions, codes.DefaultThreshold)
	}
	if v := r.prop(t, wire.PropLockedOutUntil); v == uint64(0) {
		t.Errorf("LockedOutUntil = %v after %d colliding codes, want a lockout", v, codes.DefaultThreshold)
	}
	// During the lockout no code is checked: a fresh one is refused too.
	if err := r.obj.Call(wire.Codes1+".Add", 0, "fresh", "7391", none).Err; err == nil || !strings.Contains(err.Error(), "locked out") {
		t.Errorf("Add during the lockout: %v, want locked out", err)
	}
}

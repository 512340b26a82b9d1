package dbusapi_test

import (
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/internal/dbustest"
	"lockd.dev/lockd/lock"
)

// TestUsers1 manages users and cards with real clients as an
// unprivileged member of lockd-admin: a card added over D-Bus opens the
// lock when the simulated reader presents it, through the real decoder;
// ListUsers shows ids and types, never the numbers; an enrolled card
// added again is refused and counts as a wrong entry.
func TestUsers1(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.provision(t)
	sig := r.lockSignals(t)
	out := r.mustCall(t, r.admin(), wire.Users1, "AddUser", "sa{sv}", "cleaner", "2", "kind", "s", "user", "two_factor", "b", "false")
	uid := strings.TrimPrefix(strings.TrimSpace(out), "u ")
	out = r.mustCall(t, r.admin(), wire.Users1, "AddCredential", "ussa{sv}", uid, "card", "12:3456", "0")
	if !strings.HasPrefix(out, "u ") {
		t.Fatalf("AddCredential: %q", out)
	}
	sig.wait(t, "credential-added", func(s *dbus.Signal) bool {
		return s.Body[0] == wire.EventCredentialAdded && s.Body[1].(map[string]dbus.Variant)[wire.KeyCredential].Value() == "card"
	})
	list := r.mustCall(t, r.admin(), wire.Users1, "ListUsers")
	if !strings.Contains(list, `"cleaner"`) || !strings.Contains(list, `"card"`) || strings.Contains(list, "3456") {
		t.Errorf("ListUsers: %s", list)
	}
	r.mustCall(t, r.admin(), wire.Simulator1, "PresentCard", "uu", "12", "3456")
	granted := sig.wait(t, "granted", eventOf(lock.EventGranted))
	d := granted.Body[1].(map[string]dbus.Variant)
	if d[wire.KeySource].Value() != lock.SourceCard || d[wire.KeyCredential].Value() != "card" {
		t.Errorf("granted %v", d)
	}
	sig.wait(t, "unlocked", eventOf(lock.EventUnlocked))

	// The same card for another user: refused, counted, not echoed.
	other := strings.TrimPrefix(strings.TrimSpace(r.mustCall(t, r.admin(), wire.Users1, "AddUser", "sa{sv}", "other", "0")), "u ")
	res := r.gcall(t, r.admin(), wire.Users1+".AddCredential", other, "'card'", "'12:3456'", "{}")
	if res.OK() || !strings.Contains(res.Stderr, wire.ErrInvalidArgs) || !strings.Contains(res.Stderr, "counted as a wrong entry") ||
		strings.Contains(res.Stderr, "3456") {
		t.Errorf("an enrolled card again: %v %q", res.Err, res.Output())
	}
	if st := r.core.Status(); st.WrongLeft != 4 {
		t.Errorf("%d wrong entries left after the colliding card, want 4", st.WrongLeft)
	}
}

// TestUsers1Arguments: every malformed argument is InvalidArgs naming
// what it wants, never repeating the secret, and changes nothing.
func TestUsers1Arguments(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.provision(t)
	before := r.snapshot(t)
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"type", []string{"1", "'fingerprint'", "'58213'", "{}"}, "type: want pin or card"},
		{"card text", []string{"1", "'card'", "'58213'", "{}"}, "FACILITY:NUMBER"},
		{"card sign", []string{"1", "'card'", "'-1:98765'", "{}"}, "FACILITY:NUMBER"},
		{"card too big", []string{"1", "'card'", "'1:987654'", "{}"}, "FACILITY:NUMBER"},
		{"facility too big for 26 bits", []string{"1", "'card'", "'300:9876'", "{'bits': <uint32 26>}"}, "facility is 0..255"},
		{"bits", []string{"1", "'card'", "'30:9876'", "{'bits': <uint32 32>}"}, "option bits"},
		{"PIN option", []string{"1", "'pin'", "'58213'", "{'bits': <uint32 26>}"}, "unknown option"},
		{"PIN letters", []string{"1", "'pin'", "'58x213'", "{}"}, "only the digits"},
		{"no such user", []string{"77", "'pin'", "'58213'", "{}"}, "no user with id 77"},
		{"the admin", []string{"1", "'pin'", "'58213'", "{}"}, "the admin holds only the admin code"},
	} {
		res := r.gcall(t, dbustest.Root, wire.Users1+".AddCredential", c.args...)
		if res.OK() || !strings.Contains(res.Stderr, wire.ErrInvalidArgs) || !strings.Contains(res.Stderr, c.want) ||
			strings.Contains(res.Stderr, "9876") || strings.Contains(res.Stderr, "58213") {
			t.Errorf("%s: %v %q, want InvalidArgs with %q", c.name, res.Err, res.Output(), c.want)
		}
	}
	res := r.gcall(t, dbustest.Root, wire.Users1+".AddUser", "'x'", "{'expire_after': <uint32 5>}")
	if res.OK() || !strings.Contains(res.Stderr, "expire-after is for after-first-use users") {
		t.Errorf("expire_after on a user: %v %q", res.Err, res.Output())
	}
	res = r.gcall(t, dbustest.Root, wire.Simulator1+".PresentCard", "70000", "1")
	if res.OK() || !strings.Contains(res.Stderr, wire.ErrInvalidArgs) {
		t.Errorf("PresentCard 70000: %v %q", res.Err, res.Output())
	}
	after := r.snapshot(t)
	after.Changes, before.Changes = nil, nil
	if before.Codes == nil || len(after.Codes) != len(before.Codes) {
		t.Errorf("codes changed: %v -> %v", before.Codes, after.Codes)
	}
}

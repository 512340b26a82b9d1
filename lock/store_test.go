package lock_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/internal/clock/clocktest"
	"lockd.dev/lockd/internal/codeslink"
	"lockd.dev/lockd/lock"
	"lockd.dev/lockd/lock/locktest"
)

// TestProtocolOnRealStore runs the keypad protocol against the SQLite
// store, not the fake: first setup with the unit's own setup code,
// programming a user code, opening with it, and a lockout that the store
// keeps.
func TestProtocolOnRealStore(t *testing.T) {
	dir := t.TempDir()
	setup, err := codes.FactoryInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	clk := clocktest.NewFake(time.Now())
	store, err := codes.Open(context.Background(), codes.Options{Dir: dir, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	bolt := &locktest.Bolt{Pos: gpio.PosLocked}
	c, err := lock.New(lock.Config{Keypad: nopKeypad{}, Bolt: bolt, Codes: codeslink.Codes{Store: store},
		Clock: clk, Log: discard(), Sink: codeslink.AuditSink(context.Background(), store, nil)})
	if err != nil {
		t.Fatal(err)
	}
	c.Prime(context.Background())

	got := kinds(t, c, func() {
		c.StepKeys("2580#")                          // nothing opens before setup
		c.StepKeys("*" + setup + "#")                // the label's code
		c.StepKeys("864209#864209#")                 // first admin code
		c.StepKeys("*864209#" + "14826#4826#" + "#") // add a user code, leave
		c.StepKeys("864209#")                        // the admin code does not open
		c.StepKeys("4826#")                          // the user code does
	})
	want := []string{"denied:unprovisioned", "setup-started", "setup", "programming", "code-added",
		"programming-end", "denied:unknown", "granted", "unlocking", "unlocked"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	if _, u := bolt.Counts(); u != 1 {
		t.Errorf("%d unlocks, want 1", u)
	}
	// The setup code is burnt.
	if got := kinds(t, c, func() { c.StepKeys("*" + setup + "#") }); len(got) != 1 || got[0] != "denied:unknown" {
		t.Errorf("setup code after setup: %v", got)
	}
	// With that wrong star entry, four more wrong entries make five in a
	// row: a lockout, kept by the store, that even a good code cannot pass.
	got = kinds(t, c, func() { c.StepKeys("1357#1358#1359#1360#"); c.StepKeys("4826#") })
	want = []string{"denied:unknown", "denied:unknown", "denied:unknown", "denied:unknown", "lockout", "alarm", "denied:locked-out"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("lockout (-want +got):\n%s", d)
	}
	log, err := store.Log(context.Background(), 0, 100)
	if err != nil || len(log) < len(want) {
		t.Fatalf("audit log has %d entries, err %v", len(log), err)
	}
}

package lock_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/lock"
	"lockd.dev/lockd/lock/locktest"
)

// kinds collects the kinds of events published while f runs.
func kinds(t *testing.T, c *lock.Core, f func()) []string {
	t.Helper()
	ev, stop := c.Subscribe(256)
	f()
	stop()
	var k []string
	for e := range ev {
		if e.Kind == lock.EventDenied || e.Kind == lock.EventRefused {
			k = append(k, e.Kind+":"+e.Reason)
			continue
		}
		k = append(k, e.Kind)
	}
	return k
}

func TestKeypadProtocol(t *testing.T) {
	tests := []struct {
		name  string
		keys  string
		want  []string
		state lock.State
	}{
		{"user code opens", "2580#", []string{"granted", "unlocking", "unlocked"}, lock.StateUnlocked},
		{"admin code does not open", "135790#", []string{"denied:unknown"}, lock.StateLocked},
		{"wrong code", "1234#", []string{"denied:unknown"}, lock.StateLocked},
		{"star clears digits", "99*#2580#", []string{"granted", "unlocking", "unlocked"}, lock.StateUnlocked},
		{"too long", "1234567890123#", []string{"refused:too-long"}, lock.StateLocked},
		{"code plus extra digit", "25801#", []string{"denied:unknown"}, lock.StateLocked},
		{"hash alone locks", "#", nil, lock.StateLocked},
		{"letters ignored", "25A80#", []string{"granted", "unlocking", "unlocked"}, lock.StateUnlocked},
		{"admin as user code in star entry fails", "*2580#", []string{"denied:unknown"}, lock.StateLocked},
		{"programming enter and leave", "*135790##", []string{"programming", "programming-end"}, lock.StateLocked},
		{"add mismatch", "*135790#14826#4827#", []string{"programming", "refused:codes-differ"}, lock.StateLocked},
		{"unknown command", "*135790#7#", []string{"programming", "refused:unknown-command"}, lock.StateLocked},
		{"bad slot", "*135790#2#", []string{"programming", "refused:bad-slot"}, lock.StateLocked},
		{"remove missing slot", "*135790#27#", []string{"programming", "refused:locktest: no such slot"}, lock.StateLocked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := stepCore(t, locktest.NewCodes("135790", "2580"))
			got := kinds(t, c, func() { c.StepKeys(tt.keys) })
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("events (-want +got):\n%s", d)
			}
			if want := tt.state; c.Status().State != want {
				t.Errorf("state %q, want %q", c.Status().State, want)
			}
		})
	}
}

func TestProgrammingAddRemoveChangeAdmin(t *testing.T) {
	codes := locktest.NewCodes("135790", "2580")
	c, bolt, _ := stepCore(t, codes)
	got := kinds(t, c, func() {
		c.StepKeys("*135790#")
		c.StepKeys("14826#4826#") // add to slot 2
		c.StepKeys("21#")         // remove slot 1
		c.StepKeys("3864209#864209#")
		c.StepKeys("#")
	})
	want := []string{"programming", "code-added", "code-removed", "admin-changed", "programming-end"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	if codes.User(2) != "4826" || codes.User(1) != "" || codes.AdminCode() != "864209" {
		t.Errorf("store after programming: users %v admin %q", codes.Users, codes.AdminCode())
	}
	c.StepKeys("2580#")
	c.StepKeys("4826#")
	if _, unlocks := bolt.Counts(); unlocks != 1 {
		t.Errorf("%d unlocks, want 1 (only the new code)", unlocks)
	}
}

func TestTimeouts(t *testing.T) {
	c, bolt, clk := stepCore(t, locktest.NewCodes("135790", "2580"))
	c.StepKeys("25")
	clk.Advance(5 * time.Second)
	c.StepTimers()
	c.StepKeys("80#")
	if _, u := bolt.Counts(); u != 0 {
		t.Fatal("digits survived the 5 s entry timeout")
	}
	c.StepKeys("*135790#")
	clk.Advance(29 * time.Second)
	c.StepTimers()
	if c.Status().Mode != "programming" {
		t.Fatalf("left programming after 29 s: mode %q", c.Status().Mode)
	}
	clk.Advance(time.Second)
	c.StepTimers()
	if c.Status().Mode != "idle" {
		t.Fatalf("still in %q after 30 s", c.Status().Mode)
	}
	// Back in idle, "14826#" is a user entry, not an add.
	got := kinds(t, c, func() { c.StepKeys("14826#4826#") })
	if d := cmp.Diff([]string{"denied:unknown", "denied:unknown"}, got); d != "" {
		t.Errorf("after timeout (-want +got):\n%s", d)
	}
}

func TestLockoutRefusesEvenTheRightCode(t *testing.T) {
	codes := locktest.NewCodes("135790", "2580")
	c, bolt, clk := stepCore(t, codes)
	got := kinds(t, c, func() {
		c.StepKeys("1111#1112#1113#1114#")
		c.StepKeys("1115#")
		c.StepKeys("2580#")
		c.StepKeys("*135790#")
	})
	want := []string{"denied:unknown", "denied:unknown", "denied:unknown", "denied:unknown",
		"denied:unknown", "lockout", "alarm", "denied:locked-out", "denied:locked-out"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	if c.Status().LockedOutUntil.IsZero() {
		t.Error("status shows no lockout")
	}
	clk.Advance(30 * time.Second)
	got = kinds(t, c, func() { c.StepTimers(); c.StepKeys("2580#") })
	want = []string{"lockout-end", "alarm-cleared", "granted", "unlocking", "unlocked"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("after the lockout (-want +got):\n%s", d)
	}
	if _, u := bolt.Counts(); u != 1 {
		t.Errorf("%d unlocks, want 1", u)
	}
}

func TestSetupOnUnprovisionedUnit(t *testing.T) {
	codes := locktest.NewCodes("")
	codes.Setup = "48151623"
	c, bolt, _ := stepCore(t, codes)
	if c.Status().Provisioned {
		t.Fatal("unprovisioned store reported provisioned")
	}
	got := kinds(t, c, func() {
		c.StepKeys("2580#")
		c.StepKeys("*11111111#")
		c.StepKeys("*48151623#")
		c.StepKeys("246813#246813#")
	})
	want := []string{"denied:unprovisioned", "denied:unknown", "setup-started", "setup"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	if !c.Status().Provisioned || codes.AdminCode() != "246813" {
		t.Errorf("not provisioned: admin %q", codes.AdminCode())
	}
	if _, u := bolt.Counts(); u != 0 {
		t.Error("setup moved the bolt")
	}
	// The setup code is burnt.
	if got := kinds(t, c, func() { c.StepKeys("*48151623#") }); len(got) != 1 || got[0] != "denied:unknown" {
		t.Errorf("setup code after setup: %v", got)
	}
}

func TestDuressOpensAndRaisesEvent(t *testing.T) {
	codes := locktest.NewCodes("135790", "2580")
	codes.Duress[9] = "9630"
	c, _, _ := stepCore(t, codes)
	got := kinds(t, c, func() { c.StepKeys("9630#") })
	want := []string{"granted", "duress", "unlocking", "unlocked"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
}

func TestBrokenStoreGrantsNothing(t *testing.T) {
	codes := locktest.NewCodes("135790", "2580")
	c, bolt, _ := stepCore(t, codes)
	codes.Err = errors.New("disk I/O error")
	got := kinds(t, c, func() { c.StepKeys("2580#") })
	want := []string{"code-store-error", "denied:error"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	if _, u := bolt.Counts(); u != 0 {
		t.Error("a broken store opened the door")
	}
	if len(c.Status().Warnings()) == 0 {
		t.Error("no health warning for a broken store")
	}
}

func TestJamStaysPut(t *testing.T) {
	codes := locktest.NewCodes("135790", "2580")
	c, bolt, clk := stepCore(t, codes)
	bolt.Jam = true
	got := kinds(t, c, func() { c.StepKeys("2580#") })
	want := []string{"granted", "unlocking", "jammed", "alarm"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	if c.Status().State != lock.StateJammed {
		t.Errorf("state %q, want jammed", c.Status().State)
	}
	clk.Advance(time.Hour)
	c.StepTimers()
	if l, u := bolt.Counts(); l != 0 || u != 1 {
		t.Errorf("after a jam the core moved on its own: %d locks %d unlocks", l, u)
	}
	_ = gpio.ErrJammed
}

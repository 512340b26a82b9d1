package lock_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/internal/clock/clocktest"
	"lockd.dev/lockd/lock"
	"lockd.dev/lockd/lock/locktest"
)

// fakeDoor is a door sensor whose changes the test delivers with StepDoor.
type fakeDoor struct{ open bool }

func (d *fakeDoor) Open() bool                                   { return d.open }
func (d *fakeDoor) Run(ctx context.Context, _ chan<- bool) error { <-ctx.Done(); return nil }

func doorCore(t *testing.T, mod func(*lock.Config)) (*lock.Core, *locktest.Bolt, *clocktest.Fake) {
	t.Helper()
	bolt := &locktest.Bolt{Pos: gpio.PosLocked}
	clk := clocktest.NewFake(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	cfg := lock.Config{Keypad: nopKeypad{}, Bolt: bolt, Codes: locktest.NewCodes("135790", "2580"),
		Door: &fakeDoor{}, DoorGuard: true, AutoRelock: 30 * time.Second, Clock: clk, Log: discard()}
	if mod != nil {
		mod(&cfg)
	}
	c, err := lock.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.Prime(context.Background())
	return c, bolt, clk
}

func TestAutoRelockCountsFromDoorClosing(t *testing.T) {
	c, _, clk := doorCore(t, nil)
	c.StepKeys("2580#")
	clk.Advance(20 * time.Second)
	c.StepDoor(true)
	clk.Advance(60 * time.Second) // door held open: no relock
	c.StepTimers()
	if c.Status().State != lock.StateUnlocked {
		t.Fatalf("relocked with the door open: %q", c.Status().State)
	}
	c.StepDoor(false)
	clk.Advance(29 * time.Second)
	c.StepTimers()
	if c.Status().State != lock.StateUnlocked {
		t.Fatalf("relocked %v after the door closed, want 30 s", 29*time.Second)
	}
	got := kinds(t, c, func() { clk.Advance(time.Second); c.StepTimers() })
	if d := cmp.Diff([]string{"locking", "locked"}, got); d != "" {
		t.Errorf("relock (-want +got):\n%s", d)
	}
}

func TestAutoRelockWhenDoorNeverOpens(t *testing.T) {
	c, _, clk := doorCore(t, nil)
	c.StepKeys("2580#")
	clk.Advance(30 * time.Second)
	c.StepTimers()
	if c.Status().State != lock.StateLocked {
		t.Fatalf("state %q 30 s after an unlock nobody used, want locked", c.Status().State)
	}
}

func TestAutoRelockOff(t *testing.T) {
	c, _, clk := doorCore(t, func(cfg *lock.Config) { cfg.AutoRelock = 0 })
	c.StepKeys("2580#")
	clk.Advance(24 * time.Hour)
	c.StepTimers()
	if c.Status().State != lock.StateUnlocked {
		t.Fatalf("auto_relock = 0 relocked: %q", c.Status().State)
	}
}

func TestDoorGuardHoldsLockUntilDoorCloses(t *testing.T) {
	c, bolt, _ := doorCore(t, nil)
	c.StepKeys("2580#")
	c.StepDoor(true)
	got := kinds(t, c, func() { c.StepKeys("#") })
	if d := cmp.Diff([]string{"lock-pending"}, got); d != "" {
		t.Errorf("lock with door open (-want +got):\n%s", d)
	}
	if l, _ := bolt.Counts(); l != 0 {
		t.Fatal("bolt thrown while the door was open")
	}
	got = kinds(t, c, func() { c.StepDoor(false) })
	if d := cmp.Diff([]string{"door-closed", "locking", "locked"}, got); d != "" {
		t.Errorf("door closing (-want +got):\n%s", d)
	}
}

func TestStrikePulseRelocksWithDoorOpen(t *testing.T) {
	c, _, clk := doorCore(t, func(cfg *lock.Config) {
		cfg.Pulse, cfg.AutoRelock, cfg.DoorGuard = 5*time.Second, 0, false
	})
	c.StepKeys("2580#")
	c.StepDoor(true)
	clk.Advance(5 * time.Second)
	c.StepTimers()
	if c.Status().State != lock.StateLocked {
		t.Fatalf("strike not relocked after its pulse: %q", c.Status().State)
	}
}

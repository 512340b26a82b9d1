package lock_test

import (
	"context"
	"testing"
	"time"

	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/internal/board"
	"lockd.dev/lockd/internal/config"
	"lockd.dev/lockd/lock"
	"lockd.dev/lockd/lock/locktest"
)

// rig is the lock core running on the real drivers against the electrical
// model of the board: keys are typed through the matrix scanner, the bolt is
// the H-bridge driver moving the simulated motor.
type rig struct {
	board  *sim.Board
	core   *lock.Core
	codes  *locktest.Codes
	events <-chan lock.Event
	cancel context.CancelFunc
	done   chan error
}

func newRig(t *testing.T, start float64, mod func(*lock.Config)) *rig {
	t.Helper()
	board, hw := simHardware(t, start, 60*time.Millisecond)
	codes := locktest.NewCodes("135790", "2580")
	cfg := lock.Config{Keypad: hw.Keypad(), Bolt: hw.Bolt(), Codes: codes, Door: hw.Door, DoorGuard: true, Log: discard()}
	if mod != nil {
		mod(&cfg)
	}
	core, err := lock.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	events, _ := core.Subscribe(256)
	ctx, cancel := context.WithCancel(context.Background())
	r := &rig{board: board, core: core, codes: codes, events: events, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- core.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// simHardware builds the board and its drivers the way lockd --sim does,
// from the configuration, with short timings for tests.
func simHardware(t *testing.T, start float64, travel time.Duration) (*sim.Board, *board.Hardware) {
	t.Helper()
	c := config.Default()
	c.Keypad.DebounceMS, c.Door.DebounceMS = 5, 5
	c.Bolt.TravelMS = int(5 * travel / time.Millisecond) // the driver's jam timeout
	b, c, err := board.NewSim(c, sim.BoardConfig{Travel: travel, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	hw, err := board.Build(c, b.ByName, discard())
	if err != nil {
		t.Fatal(err)
	}
	return b, hw
}

func (r *rig) stop(t *testing.T) {
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		r.done <- nil
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// typeKeys presses keys as a person would: the simulated board's 80 ms
// hold and 50 ms gap, the gap also before the first key, so a key pressed
// again right after the last call is a new press, not contact chatter the
// debounce merges. Presses of 15 ms were missed now and then when the arm64
// tests ran under qemu-user on a loaded machine: a starved scanner
// goroutine slept through the whole press.
func (r *rig) typeKeys(t *testing.T, keys string) {
	t.Helper()
	time.Sleep(50 * time.Millisecond)
	if err := r.board.Press(context.Background(), keys); err != nil {
		t.Fatal(err)
	}
}

// wait returns the next event of kind, failing after a generous deadline.
func (r *rig) wait(t *testing.T, kind string) lock.Event {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-r.events:
			if e.Kind == kind {
				return e
			}
		case <-deadline:
			t.Fatalf("no %q event", kind)
		}
	}
}

func TestSimCodeThroughScannerMovesBolt(t *testing.T) {
	r := newRig(t, sim.BoltLocked, nil)
	r.typeKeys(t, "2580#")
	e := r.wait(t, lock.EventGranted)
	if e.Slot != 1 || e.Source != lock.SourceKeypad {
		t.Errorf("granted event %+v", e)
	}
	r.wait(t, lock.EventUnlocked)
	if p := r.board.Motor.Position(); p != sim.BoltUnlocked {
		t.Errorf("simulated bolt at %v, want unlocked", p)
	}
	r.typeKeys(t, "#")
	r.wait(t, lock.EventLocked)
	if p := r.board.Motor.Position(); p != sim.BoltLocked {
		t.Errorf("simulated bolt at %v, want locked", p)
	}
	if r.board.Motor.ShortCircuit() {
		t.Error("both H-bridge inputs were active at once")
	}
}

func TestSimWrongCodeDoesNotMove(t *testing.T) {
	r := newRig(t, sim.BoltLocked, nil)
	r.typeKeys(t, "2581#")
	if e := r.wait(t, lock.EventDenied); e.Reason != lock.ReasonUnknown {
		t.Errorf("denied for %q", e.Reason)
	}
	if r.board.Motor.Position() != sim.BoltLocked || r.board.Motor.Moving() != 0 {
		t.Error("bolt moved on a wrong code")
	}
}

func TestSimJam(t *testing.T) {
	r := newRig(t, sim.BoltLocked, nil)
	r.board.Motor.SetJam(true)
	r.typeKeys(t, "2580#")
	r.wait(t, lock.EventJammed)
	if st := r.core.Status().State; st != lock.StateJammed {
		t.Errorf("state %q, want jammed", st)
	}
	// The driver retried back to the last good end, then stopped for good.
	if p := r.board.Motor.Position(); p != sim.BoltLocked {
		t.Errorf("bolt at %v after a jam, want back at locked", p)
	}
	if r.board.Motor.Moving() != 0 {
		t.Error("motor still energised after a jam")
	}
}

func TestSimUnknownStartDoesNotMove(t *testing.T) {
	r := newRig(t, sim.BoltMid, func(c *lock.Config) { c.AutoRelock = 50 * time.Millisecond })
	r.wait(t, lock.EventPositionUnsure)
	if st := r.core.Status().State; st != lock.StateUnknown {
		t.Errorf("state %q, want unknown", st)
	}
	// Door activity and time pass; the core must not move the bolt on its own.
	r.board.Door.SetOpen(true)
	r.wait(t, lock.EventDoorOpen)
	r.board.Door.SetOpen(false)
	r.wait(t, lock.EventDoorClosed)
	if p := r.board.Motor.Position(); p != sim.BoltMid || r.board.Motor.Moving() != 0 {
		t.Errorf("bolt moved from an unknown position: now %v", p)
	}
	// A person's explicit request may move it.
	if err := r.core.Lock(context.Background(), lock.SourceDBus, 1000); err != nil {
		t.Fatal(err)
	}
	if e := r.wait(t, lock.EventLocked); e.UID != 1000 || e.Source != lock.SourceDBus {
		t.Errorf("locked event %+v: want the D-Bus caller's UID 1000", e)
	}
}

func TestSimDoorGuardAndAutoRelock(t *testing.T) {
	r := newRig(t, sim.BoltLocked, func(c *lock.Config) { c.AutoRelock = 100 * time.Millisecond })
	r.typeKeys(t, "2580#")
	r.wait(t, lock.EventUnlocked)
	r.board.Door.SetOpen(true)
	r.wait(t, lock.EventDoorOpen)
	if err := r.core.Lock(context.Background(), lock.SourceDBus, 0); err != lock.ErrDoorOpen {
		t.Fatalf("Lock with the door open: %v, want ErrDoorOpen", err)
	}
	r.wait(t, lock.EventLockPending)
	if r.board.Motor.Position() != sim.BoltUnlocked {
		t.Fatal("bolt thrown into an open door")
	}
	r.board.Door.SetOpen(false)
	e := r.wait(t, lock.EventLocking)
	if e.Source != lock.SourceDoor {
		t.Errorf("locking source %q, want door", e.Source)
	}
	r.wait(t, lock.EventLocked)
	// And auto-relock after the next unlock, with the real clock.
	r.typeKeys(t, "2580#")
	r.wait(t, lock.EventUnlocked)
	if e := r.wait(t, lock.EventLocking); e.Source != lock.SourceAutoRelock {
		t.Errorf("locking source %q, want auto-relock", e.Source)
	}
	r.wait(t, lock.EventLocked)
}

// TestSimCancelMidTravelStopsMotor is SIGTERM mid-travel as the core sees
// it: the context goes, the motor stops at once.
func TestSimCancelMidTravelStopsMotor(t *testing.T) {
	board, hw := simHardware(t, sim.BoltLocked, 10*time.Second)
	core, _ := lock.New(lock.Config{Keypad: hw.Keypad(), Bolt: hw.Bolt(), Codes: locktest.NewCodes("135790", "2580"), Log: discard()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- core.Run(ctx) }()
	if err := core.Unlock(context.Background(), lock.SourceDBus, 0); err != nil {
		t.Fatal(err)
	}
	// The event is published as the motor goroutine starts; wait for the
	// H-bridge itself, as the model sees it.
	for board.Motor.Moving() == 0 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("Run returned %v after cancel", time.Since(start))
	if board.Motor.Moving() != 0 {
		t.Error("motor still energised after Run returned")
	}
	if p := board.Motor.Position(); p <= sim.BoltUnlocked || p >= sim.BoltLocked {
		t.Errorf("bolt at %v: expected it stopped mid-travel", p)
	}
}

func TestRefreshReadsProvisioning(t *testing.T) {
	r := newRig(t, sim.BoltLocked, func(c *lock.Config) { c.Codes.(*locktest.Codes).Admin = "" })
	<-r.core.Ready()
	if r.core.Status().Provisioned {
		t.Fatal("provisioned without an admin code")
	}
	r.codes.SetAdmin(context.Background(), "864209", time.Now())
	if err := r.core.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !r.core.Status().Provisioned {
		t.Error("Refresh did not pick up the new admin code")
	}
}

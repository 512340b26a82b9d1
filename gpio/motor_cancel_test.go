package gpio_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	pgpio "periph.io/x/conn/v3/gpio"

	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/gpio/sim"
)

// motorStopped returns a channel closed once the simulated bolt stands
// still.
func motorStopped(m *sim.Motor) <-chan struct{} {
	ch := make(chan struct{})
	changed := make(chan struct{}, 1)
	m.Notify(func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	go func() {
		for m.Moving() != 0 {
			<-changed
		}
		close(ch)
	}()
	return ch
}

func TestMotorCancelStopsAtOnce(t *testing.T) {
	t.Parallel()
	// A slow bolt (2 s) so the cancel surely lands mid-travel.
	m := sim.NewMotor(2 * time.Second)
	drv, err := gpio.NewMotor(gpio.MotorConfig{
		LockDir: m.LockDir(), UnlockDir: m.UnlockDir(),
		LockedSwitch: m.LockedSwitch(), UnlockedSwitch: m.UnlockedSwitch(),
	})
	if err != nil {
		t.Fatal(err)
	}
	moving := make(chan struct{}, 1)
	m.Notify(func() {
		if m.Moving() == 1 {
			select {
			case moving <- struct{}{}:
			default:
			}
		}
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- drv.Lock(ctx) }()

	select {
	case <-moving:
	case err := <-done:
		t.Fatalf("Lock returned %v before the bolt moved", err)
	case <-time.After(time.Second):
		t.Fatal("the bolt never started")
	}
	stopped := motorStopped(m)
	cancel()
	cancelled := time.Now()
	select {
	case <-stopped: // the motor is released without waiting for the poll
	case <-time.After(gpio.PollInterval / 2):
		t.Fatalf("motor still driven %s after cancel", gpio.PollInterval/2)
	}
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Lock = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second): // a generous bound: that it returns is what counts
		t.Fatal("Lock did not return after cancel")
	}
	t.Logf("Lock returned %s after cancel", time.Since(cancelled))
	if p := m.Position(); p <= sim.BoltUnlocked || p >= sim.BoltMid {
		t.Errorf("bolt at %v, want just past the unlocked end", p)
	}
	if got := drv.Position(); got != gpio.PosUnknown {
		t.Errorf("Position() = %s, want unknown", got)
	}
	if m.ShortCircuit() {
		t.Error("short circuit")
	}
}

func TestMotorCancelledBeforeStart(t *testing.T) {
	r := newMotorRig(t, jamAfter, false)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := r.drv.Lock(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock = %v, want context.Canceled", err)
	}
	if got := r.history(); len(got) != 0 {
		t.Errorf("energised anyway: %v", got)
	}
}

func TestMotorStopDuringMove(t *testing.T) {
	t.Parallel()
	r := newMotorRig(t, jamAfter, false)
	done := make(chan error, 1)
	go func() { done <- r.drv.Lock(context.Background()) }()
	if d := <-r.moved; d != gpio.DirLock {
		t.Fatalf("first move %s", d)
	}
	if err := r.drv.Stop(); err != nil {
		t.Fatal(err)
	}
	err := <-done
	if err == nil || errors.Is(err, gpio.ErrJammed) || !strings.HasPrefix(err.Error(), "gpio: motor:") {
		t.Fatalf("Lock after Stop = %v, want a gpio: motor: error, not a jam", err)
	}
	if got := r.history(); !sameDirs(got, []gpio.Direction{gpio.DirLock, gpio.DirStop}) {
		t.Errorf("moves %v: Stop must not be followed by a retry", got)
	}
}

// TestMotorNeverBothActive hammers the driver with alternating moves,
// random cancels and concurrent Stops; the model records any moment both
// direction pins were active (newMotorRig's cleanup checks it).
func TestMotorNeverBothActive(t *testing.T) {
	t.Parallel()
	r := newMotorRig(t, jamAfter, false)
	go func() {
		for range r.moved { // drain
		}
	}()
	stops := make(chan struct{})
	go func() {
		defer close(stops)
		for range 10 {
			time.Sleep(13 * time.Millisecond) // jitter against the moves, not a wait
			_ = r.drv.Stop()
		}
	}()
	for i := range 24 {
		ctx, cancel := context.WithTimeout(t.Context(), time.Duration(rand.IntN(int(simTravel))))
		if i%2 == 0 {
			_ = r.drv.Lock(ctx)
		} else {
			_ = r.drv.Unlock(ctx)
		}
		cancel()
	}
	<-stops
	if err := r.drv.Lock(t.Context()); err != nil {
		t.Fatalf("final Lock: %v", err)
	}
	if r.sim.ShortCircuit() {
		t.Fatal("both direction pins were active at once")
	}
}

// TestMotorBothSwitchesClosed wires the driver to bare pins with both limit
// switches held closed, which no bolt can do.
func TestMotorBothSwitchesClosed(t *testing.T) {
	lock, unlock := sim.NewPin("L", 1), sim.NewPin("U", 2)
	locked, unlocked := sim.NewPin("LS", 3), sim.NewPin("US", 4)
	locked.Drive(pgpio.High)
	unlocked.Drive(pgpio.High)
	moved := false
	drv, err := gpio.NewMotor(gpio.MotorConfig{
		LockDir: lock, UnlockDir: unlock, LockedSwitch: locked, UnlockedSwitch: unlocked,
		OnMove: func(gpio.Direction) { moved = true },
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := drv.Position(); got != gpio.PosUnknown {
		t.Errorf("Position() = %s, want unknown", got)
	}
	if l, u := drv.Switches(); !l || !u {
		t.Errorf("Switches() = %t, %t, want both closed", l, u)
	}
	if err := drv.Check(); !errors.Is(err, gpio.ErrFault) {
		t.Errorf("Check() = %v, want ErrFault", err)
	}
	for name, move := range map[string]func(context.Context) error{"Lock": drv.Lock, "Unlock": drv.Unlock} {
		if err := move(t.Context()); !errors.Is(err, gpio.ErrFault) {
			t.Errorf("%s = %v, want ErrFault", name, err)
		}
	}
	if moved || lock.Level() == pgpio.High || unlock.Level() == pgpio.High {
		t.Error("the motor was energised despite the fault")
	}
	unlocked.Release() // pulled down: open
	if got := drv.Position(); got != gpio.PosLocked {
		t.Errorf("Position() = %s after the fault cleared, want locked", got)
	}
}

func TestMotorConfigErrors(t *testing.T) {
	p := func(n string) *sim.Pin { return sim.NewPin(n, -1) }
	a, b, c, d := p("A"), p("B"), p("C"), p("D")
	tests := []struct {
		name string
		cfg  gpio.MotorConfig
		want string
	}{
		{"no lock dir", gpio.MotorConfig{UnlockDir: b, LockedSwitch: c, UnlockedSwitch: d}, "direction pins"},
		{"no unlock dir", gpio.MotorConfig{LockDir: a, LockedSwitch: c, UnlockedSwitch: d}, "direction pins"},
		{"no locked switch", gpio.MotorConfig{LockDir: a, UnlockDir: b, UnlockedSwitch: d}, "limit switch"},
		{"no unlocked switch", gpio.MotorConfig{LockDir: a, UnlockDir: b, LockedSwitch: c}, "limit switch"},
		{"same dir pin", gpio.MotorConfig{LockDir: a, UnlockDir: a, LockedSwitch: c, UnlockedSwitch: d}, "same pin"},
		{"same switch pin", gpio.MotorConfig{LockDir: a, UnlockDir: b, LockedSwitch: c, UnlockedSwitch: c}, "same pin"},
		{"negative travel", gpio.MotorConfig{LockDir: a, UnlockDir: b, LockedSwitch: c, UnlockedSwitch: d, Travel: -1}, "negative travel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := gpio.NewMotor(tt.cfg)
			if err == nil || !strings.HasPrefix(err.Error(), "gpio: motor: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewMotor = %v, want a gpio: motor: error about %q", err, tt.want)
			}
		})
	}
	m, err := gpio.NewMotor(gpio.MotorConfig{LockDir: a, UnlockDir: b, LockedSwitch: c, UnlockedSwitch: d})
	if err != nil {
		t.Fatal(err)
	}
	if m.Travel() != gpio.DefaultTravel {
		t.Errorf("Travel() = %s, want %s", m.Travel(), gpio.DefaultTravel)
	}
}

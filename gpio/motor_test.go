package gpio_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/gpio/sim"
)

// bolt is what the lock core needs from a Motor or a Strike.
type bolt interface {
	Lock(context.Context) error
	Unlock(context.Context) error
	Position() gpio.Position
	Stop() error
}

var (
	_ bolt = (*gpio.Motor)(nil)
	_ bolt = (*gpio.Strike)(nil)
)

// Timings: the simulated bolt takes simTravel end to end; the driver calls
// a jam after jamAfter, well above simTravel even under -race.
const (
	simTravel = 30 * time.Millisecond
	jamAfter  = 150 * time.Millisecond
)

type motorRig struct {
	sim   *sim.Motor
	drv   *gpio.Motor
	mu    sync.Mutex
	moves []gpio.Direction
	moved chan gpio.Direction // every OnMove, buffered
}

func newMotorRig(t *testing.T, travel time.Duration, activeLow bool, opts ...sim.MotorOption) *motorRig {
	t.Helper()
	if activeLow {
		opts = append(opts, sim.DirActiveLow(), sim.SwitchActiveLow())
	}
	r := &motorRig{sim: sim.NewMotor(simTravel, opts...), moved: make(chan gpio.Direction, 64)}
	drv, err := gpio.NewMotor(gpio.MotorConfig{
		LockDir: r.sim.LockDir(), UnlockDir: r.sim.UnlockDir(),
		LockDirActiveLow: activeLow, UnlockDirActiveLow: activeLow,
		LockedSwitch: r.sim.LockedSwitch(), UnlockedSwitch: r.sim.UnlockedSwitch(),
		LockedSwitchActiveLow: activeLow, UnlockedSwitchActiveLow: activeLow,
		Travel: travel,
		Logger: slog.New(slog.DiscardHandler),
		OnMove: func(d gpio.Direction) {
			r.mu.Lock()
			r.moves = append(r.moves, d)
			r.mu.Unlock()
			r.moved <- d
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.drv = drv
	t.Cleanup(func() {
		if r.sim.ShortCircuit() {
			t.Error("both direction pins were active at once")
		}
		if d := r.drv.Direction(); d != gpio.DirStop {
			t.Errorf("motor left driving %s", d)
		}
		if v := r.sim.Moving(); v != 0 {
			t.Errorf("simulated bolt still moving (%d)", v)
		}
	})
	return r
}

func (r *motorRig) history() []gpio.Direction {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]gpio.Direction(nil), r.moves...)
}

func sameDirs(a, b []gpio.Direction) bool {
	return len(a) == len(b) && strings.Join(dirNames(a), ",") == strings.Join(dirNames(b), ",")
}

func dirNames(ds []gpio.Direction) []string {
	var s []string
	for _, d := range ds {
		s = append(s, d.String())
	}
	return s
}

func TestMotorMoves(t *testing.T) {
	t.Parallel()
	L, U, S := gpio.DirLock, gpio.DirUnlock, gpio.DirStop
	tests := []struct {
		name      string
		start     float64
		lock      bool // Lock, else Unlock
		activeLow bool
		before    gpio.Position
		wantPos   float64
		moves     []gpio.Direction
	}{
		{"lock from unlocked", sim.BoltUnlocked, true, false, gpio.PosUnlocked, sim.BoltLocked, []gpio.Direction{L, S}},
		{"unlock from locked", sim.BoltLocked, false, false, gpio.PosLocked, sim.BoltUnlocked, []gpio.Direction{U, S}},
		{"lock when locked", sim.BoltLocked, true, false, gpio.PosLocked, sim.BoltLocked, nil},
		{"unlock when unlocked", sim.BoltUnlocked, false, false, gpio.PosUnlocked, sim.BoltUnlocked, nil},
		{"lock from mid", sim.BoltMid, true, false, gpio.PosUnknown, sim.BoltLocked, []gpio.Direction{L, S}},
		{"unlock from mid", 0.3, false, false, gpio.PosUnknown, sim.BoltUnlocked, []gpio.Direction{U, S}},
		{"lock active-low", sim.BoltUnlocked, true, true, gpio.PosUnlocked, sim.BoltLocked, []gpio.Direction{L, S}},
		{"unlock active-low", sim.BoltLocked, false, true, gpio.PosLocked, sim.BoltUnlocked, []gpio.Direction{U, S}},
		{"already there active-low", sim.BoltLocked, true, true, gpio.PosLocked, sim.BoltLocked, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newMotorRig(t, jamAfter, tt.activeLow, sim.StartAt(tt.start))
			if got := r.drv.Position(); got != tt.before {
				t.Fatalf("Position() before = %s, want %s", got, tt.before)
			}
			move, want := r.drv.Unlock, gpio.PosUnlocked
			if tt.lock {
				move, want = r.drv.Lock, gpio.PosLocked
			}
			if err := move(t.Context()); err != nil {
				t.Fatalf("move: %v", err)
			}
			if got := r.drv.Position(); got != want {
				t.Errorf("Position() = %s, want %s", got, want)
			}
			if got := r.sim.Position(); got != tt.wantPos {
				t.Errorf("simulated bolt at %v, want %v", got, tt.wantPos)
			}
			if got := r.history(); !sameDirs(got, tt.moves) {
				t.Errorf("OnMove saw %v, want %v", got, tt.moves)
			}
		})
	}
}

func TestMotorJam(t *testing.T) {
	t.Parallel()
	L, U, S := gpio.DirLock, gpio.DirUnlock, gpio.DirStop
	tests := []struct {
		name    string
		start   float64
		lock    bool
		want    gpio.JamError
		wantSim float64
		wantPos gpio.Position
		moves   []gpio.Direction
	}{
		{"lock jams, backs off", sim.BoltUnlocked, true,
			gpio.JamError{Target: gpio.PosLocked, Back: gpio.PosUnlocked, Reached: true},
			sim.BoltUnlocked, gpio.PosUnlocked, []gpio.Direction{L, S, U, S}},
		{"unlock jams, backs off", sim.BoltLocked, false,
			gpio.JamError{Target: gpio.PosUnlocked, Back: gpio.PosLocked, Reached: true},
			sim.BoltLocked, gpio.PosLocked, []gpio.Direction{U, S, L, S}},
		// A bolt wedged in the obstacle moves neither way.
		{"jam blocks the retry too", sim.BoltMid, true,
			gpio.JamError{Target: gpio.PosLocked, Back: gpio.PosUnlocked, Reached: false},
			sim.BoltMid, gpio.PosUnknown, []gpio.Direction{L, S, U, S}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newMotorRig(t, jamAfter, false, sim.StartAt(tt.start))
			r.sim.SetJam(true)
			move := r.drv.Unlock
			if tt.lock {
				move = r.drv.Lock
			}
			start := time.Now()
			err := move(t.Context())
			took := time.Since(start)
			if !errors.Is(err, gpio.ErrJammed) {
				t.Fatalf("err = %v, want ErrJammed", err)
			}
			var jam *gpio.JamError
			if !errors.As(err, &jam) {
				t.Fatalf("err = %T, want *JamError", err)
			}
			tt.want.Travel = jamAfter
			if *jam != tt.want {
				t.Errorf("JamError = %+v, want %+v", *jam, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "gpio: ") {
				t.Errorf("error %q does not start with gpio:", err)
			}
			if tt.want.Reached && took > 2*jamAfter {
				t.Errorf("took %s; a reached retry should not wait for its timeout", took)
			}
			if !tt.want.Reached && took < 2*jamAfter {
				t.Errorf("took %s, want two full timeouts", took)
			}
			if got := r.sim.Position(); got != tt.wantSim {
				t.Errorf("simulated bolt at %v, want %v", got, tt.wantSim)
			}
			if got := r.drv.Position(); got != tt.wantPos {
				t.Errorf("Position() = %s, want %s", got, tt.wantPos)
			}
			if got := r.history(); !sameDirs(got, tt.moves) {
				t.Errorf("OnMove saw %v, want %v", got, tt.moves)
			}
			// The jam cleared, the same driver finishes the job.
			r.sim.SetJam(false)
			if err := move(t.Context()); err != nil {
				t.Fatalf("after clearing the jam: %v", err)
			}
		})
	}
}

package gpio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	pgpio "periph.io/x/conn/v3/gpio"
)

// DefaultTravel is how long a Motor drives the bolt toward an end before it
// calls it a jam, when MotorConfig.Travel is zero.
const DefaultTravel = 4 * time.Second

// Direction is which way a Motor drives the bolt.
type Direction int

// Directions reported to MotorConfig.OnMove.
const (
	DirStop   Direction = iota // both H-bridge inputs inactive
	DirLock                    // driving toward the locked end
	DirUnlock                  // driving toward the unlocked end
)

// String returns "lock", "unlock" or "stop".
func (d Direction) String() string {
	switch d {
	case DirLock:
		return "lock"
	case DirUnlock:
		return "unlock"
	}
	return "stop"
}

// MotorConfig wires a bolt motor: an H-bridge with one input per direction
// and a limit switch at each end of the bolt's travel.
//
// Every line is active-high unless its ActiveLow flag is set. A switch input
// is pulled toward its inactive level (PullUp when ActiveLow, else PullDown),
// so a broken switch wire reads "open" and the bolt's position "unknown",
// never a false "locked".
type MotorConfig struct {
	LockDir            pgpio.PinOut // H-bridge input that drives the bolt out
	UnlockDir          pgpio.PinOut // H-bridge input that draws the bolt in
	LockDirActiveLow   bool
	UnlockDirActiveLow bool

	LockedSwitch            pgpio.PinIn // closed at the locked end
	UnlockedSwitch          pgpio.PinIn // closed at the unlocked end
	LockedSwitchActiveLow   bool
	UnlockedSwitchActiveLow bool

	// Travel is the longest one move may take before it is a jam; zero
	// means DefaultTravel.
	Travel time.Duration

	// OnMove, if set, is called each time the H-bridge changes direction,
	// with DirLock or DirUnlock right after the pin is energised and with
	// DirStop right after it is released. It runs under the motor's output
	// lock so calls arrive in order: it must return quickly and must not
	// call the Motor.
	OnMove func(Direction)

	Logger *slog.Logger // nil means slog.Default()
}

// Motor drives a bolt with an H-bridge and reads its two limit switches.
//
// The two direction inputs are never active at once: a move always releases
// the other direction before it energises its own. Lock and Unlock are
// serialized; Stop and Position may be called at any time.
type Motor struct {
	lockDir, unlockDir outLine
	locked, unlocked   inLine
	travel             time.Duration
	onMove             func(Direction)
	log                *slog.Logger

	mu    sync.Mutex // serializes moves
	outMu sync.Mutex // guards the direction pins and dir
	dir   Direction
}

// NewMotor checks cfg, releases both direction inputs and configures the
// limit switches for edge detection. It does not move the bolt.
func NewMotor(cfg MotorConfig) (*Motor, error) {
	switch {
	case cfg.LockDir == nil || cfg.UnlockDir == nil:
		return nil, errors.New("gpio: motor: both direction pins are required")
	case cfg.LockedSwitch == nil || cfg.UnlockedSwitch == nil:
		return nil, errors.New("gpio: motor: both limit switch pins are required")
	case samePin(cfg.LockDir, cfg.UnlockDir):
		return nil, fmt.Errorf("gpio: motor: lock and unlock direction are the same pin %s", pinName(cfg.LockDir))
	case samePin(cfg.LockedSwitch, cfg.UnlockedSwitch):
		return nil, fmt.Errorf("gpio: motor: both limit switches are the same pin %s", pinName(cfg.LockedSwitch))
	case cfg.Travel < 0:
		return nil, fmt.Errorf("gpio: motor: negative travel time %s", cfg.Travel)
	}
	m := &Motor{
		lockDir:   outLine{cfg.LockDir, cfg.LockDirActiveLow},
		unlockDir: outLine{cfg.UnlockDir, cfg.UnlockDirActiveLow},
		locked:    inLine{cfg.LockedSwitch, cfg.LockedSwitchActiveLow},
		unlocked:  inLine{cfg.UnlockedSwitch, cfg.UnlockedSwitchActiveLow},
		travel:    cfg.Travel,
		onMove:    cfg.OnMove,
		log:       cfg.Logger,
	}
	if m.travel == 0 {
		m.travel = DefaultTravel
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	if err := m.Stop(); err != nil {
		return nil, err
	}
	for _, l := range []inLine{m.locked, m.unlocked} {
		if err := l.setup(); err != nil {
			return nil, fmt.Errorf("gpio: motor: %w", err)
		}
	}
	return m, nil
}

// Travel returns the configured travel timeout of one move.
func (m *Motor) Travel() time.Duration { return m.travel }

// Switches reports which limit switches are closed. Both closed at once is
// a wiring or switch fault (see Check).
func (m *Motor) Switches() (locked, unlocked bool) {
	return m.locked.active(), m.unlocked.active()
}

// Position reads the limit switches: PosLocked or PosUnlocked when exactly
// that end's switch is closed, PosUnknown between the ends and when both
// are closed.
func (m *Motor) Position() Position {
	return positionOf(m.Switches())
}

// Check returns an error wrapping ErrFault if both limit switches are
// closed, which no bolt can do.
func (m *Motor) Check() error {
	if l, u := m.Switches(); l && u {
		return fmt.Errorf("gpio: motor: both limit switches closed: %w", ErrFault)
	}
	return nil
}

// Direction reports which way the motor is driving right now.
func (m *Motor) Direction() Direction {
	m.outMu.Lock()
	defer m.outMu.Unlock()
	return m.dir
}

// Lock drives the bolt to the locked end. See Unlock.
func (m *Motor) Lock(ctx context.Context) error { return m.move(ctx, PosLocked) }

// Unlock drives the bolt to the unlocked end.
//
// If the bolt is already there it returns nil without energising the motor.
// If both limit switches are closed it refuses with an error wrapping
// ErrFault. Otherwise it drives until the end's switch closes. If that does
// not happen within the travel timeout, it stops, drives back once toward
// the other end (where the bolt came from) with the same timeout, stops,
// and returns a *JamError wrapping ErrJammed that says whether the bolt got
// back. If ctx is cancelled, the motor is released at once and ctx.Err() is
// returned (within PollInterval). If Stop is called meanwhile, the move ends
// with an error. The motor is always released when Lock or Unlock returns.
func (m *Motor) Unlock(ctx context.Context) error { return m.move(ctx, PosUnlocked) }

// Stop releases both direction inputs. It may be called at any time; a move
// in progress then fails.
func (m *Motor) Stop() error {
	m.outMu.Lock()
	defer m.outMu.Unlock()
	return m.releaseLocked()
}

// JamError is returned by Motor.Lock and Motor.Unlock when the bolt did not
// reach its end within the travel timeout. It wraps ErrJammed.
type JamError struct {
	Target  Position      // the end the bolt was sent to
	Back    Position      // the end it was retried toward
	Reached bool          // whether the retry got the bolt back to Back
	Travel  time.Duration // the timeout of each attempt
}

// Error says where the bolt was sent and whether it got back.
func (e *JamError) Error() string {
	back := fmt.Sprintf("backed off to the %s end", e.Back)
	if !e.Reached {
		back = fmt.Sprintf("could not back off to the %s end either", e.Back)
	}
	return fmt.Sprintf("gpio: motor: bolt did not reach the %s end within %s, %s: %v",
		e.Target, e.Travel, back, ErrJammed)
}

// Unwrap returns ErrJammed.
func (e *JamError) Unwrap() error { return ErrJammed }

func positionOf(locked, unlocked bool) Position {
	switch {
	case locked && !unlocked:
		return PosLocked
	case unlocked && !locked:
		return PosUnlocked
	}
	return PosUnknown
}

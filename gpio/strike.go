package gpio

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	pgpio "periph.io/x/conn/v3/gpio"
)

// DefaultPulse is how long a strike stays open for one grant, when
// StrikeConfig.Pulse is zero.
const DefaultPulse = 5 * time.Second

// StrikeConfig wires a fail-secure electric strike on a relay: energised
// means unlocked, so a power cut leaves the door locked.
type StrikeConfig struct {
	Pin       pgpio.PinOut // relay input
	ActiveLow bool         // relay boards often energise on Low
	// Pulse is how long the caller should hold the strike open for one
	// grant; zero means DefaultPulse. The Strike itself never relocks on
	// its own: the lock core owns that timer.
	Pulse time.Duration
}

// Strike drives a relay strike. It has the same method set as Motor, so
// both satisfy one bolt interface; it has no sensor, so Position reports the
// relay's state as last written.
type Strike struct {
	out   outLine
	pulse time.Duration

	mu    sync.Mutex
	state Position // PosUnknown after a failed write
}

// NewStrike checks cfg and de-energises the relay (locked).
func NewStrike(cfg StrikeConfig) (*Strike, error) {
	switch {
	case cfg.Pin == nil:
		return nil, errors.New("gpio: strike: relay pin is required")
	case cfg.Pulse < 0:
		return nil, fmt.Errorf("gpio: strike: negative pulse %s", cfg.Pulse)
	}
	s := &Strike{out: outLine{cfg.Pin, cfg.ActiveLow}, pulse: cfg.Pulse}
	if s.pulse == 0 {
		s.pulse = DefaultPulse
	}
	if err := s.Stop(); err != nil {
		return nil, err
	}
	return s, nil
}

// Pulse returns how long one grant should hold the strike open.
func (s *Strike) Pulse() time.Duration { return s.pulse }

// Unlock energises the relay. It returns ctx.Err() without touching the
// relay if ctx is already done.
func (s *Strike) Unlock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.set(true)
}

// Lock de-energises the relay. Unlike Unlock it ignores ctx: releasing a
// fail-secure strike is instant and always safe.
func (s *Strike) Lock(context.Context) error { return s.set(false) }

// Stop de-energises the relay, which locks a fail-secure strike.
func (s *Strike) Stop() error { return s.set(false) }

// Position is PosUnlocked while the relay is energised, PosLocked while it
// is not, and PosUnknown after a failed write.
func (s *Strike) Position() Position {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

func (s *Strike) set(on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.out.set(on); err != nil {
		s.state = PosUnknown
		return fmt.Errorf("gpio: strike: %w", err)
	}
	s.state = PosLocked
	if on {
		s.state = PosUnlocked
	}
	return nil
}

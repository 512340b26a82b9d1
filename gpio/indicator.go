package gpio

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	pgpio "periph.io/x/conn/v3/gpio"
)

// MaxBeeps caps Beeps; a longer count is not something a person counts.
const MaxBeeps = 99

// IndicatorConfig wires the green LED, red LED and buzzer. Any of them may
// be nil (a keypad without a buzzer); each is active-high unless its
// ActiveLow flag is set.
type IndicatorConfig struct {
	Green, Red, Buzzer                            pgpio.PinOut
	GreenActiveLow, RedActiveLow, BuzzerActiveLow bool

	// Patterns overrides DefaultPatterns, pattern by pattern.
	Patterns map[Pattern]Sequence
	// Beep is the length of one Beeps beep and of the gap after it; zero
	// means 150 ms.
	Beep time.Duration
	// OnChange, if set, is called from Run after the outputs change.
	OnChange func(green, red, buzzer bool)
	Logger   *slog.Logger // nil means slog.Default()
}

// Indicators plays Patterns on the LEDs and buzzer.
//
// Show starts a pattern at once, interrupting whatever plays. A pattern
// that ends (PatternKey, PatternGranted, ...) hands back to the background
// pattern (SetBackground, PatternIdle at first); a looping one plays until
// the next Show. Show, SetBackground and Beeps never block and are safe
// from any goroutine; nothing shows until Run runs.
type Indicators struct {
	outs     [3]*outLine // green, red, buzzer; nil when absent
	seqs     map[Pattern]Sequence
	beep     time.Duration
	onChange func(green, red, buzzer bool)
	log      *slog.Logger
	wake     chan struct{}

	mu        sync.Mutex
	running   bool
	pending   *Sequence // from Show or Beeps, not yet started
	bg        Pattern
	bgChanged bool
	state     [3]bool
	failed    [3]bool // the last write to that output failed
}

// NewIndicators checks cfg and switches every output off.
func NewIndicators(cfg IndicatorConfig) (*Indicators, error) {
	if cfg.Beep < 0 {
		return nil, fmt.Errorf("gpio: indicators: negative beep %s", cfg.Beep)
	}
	in := &Indicators{
		seqs:     DefaultPatterns(),
		beep:     cfg.Beep,
		onChange: cfg.OnChange,
		log:      cfg.Logger,
		wake:     make(chan struct{}, 1),
	}
	if in.beep == 0 {
		in.beep = 150 * time.Millisecond
	}
	if in.log == nil {
		in.log = slog.Default()
	}
	for p, s := range cfg.Patterns {
		if p < 0 || p >= numPatterns {
			return nil, fmt.Errorf("gpio: indicators: unknown pattern %s", p)
		}
		if err := s.validate(); err != nil {
			return nil, fmt.Errorf("gpio: indicators: pattern %s: %w", p, err)
		}
		in.seqs[p] = s
	}
	for i, o := range []struct {
		pin       pgpio.PinOut
		activeLow bool
	}{{cfg.Green, cfg.GreenActiveLow}, {cfg.Red, cfg.RedActiveLow}, {cfg.Buzzer, cfg.BuzzerActiveLow}} {
		if o.pin == nil {
			continue
		}
		in.outs[i] = &outLine{o.pin, o.activeLow}
		if err := in.outs[i].set(false); err != nil {
			return nil, fmt.Errorf("gpio: indicators: %w", err)
		}
	}
	return in, nil
}

// Show starts p now, replacing what plays. Show(PatternIdle) ends a
// one-shot pattern early and returns to the background.
func (in *Indicators) Show(p Pattern) {
	s, ok := in.seqs[p]
	if !ok {
		in.log.Warn("gpio: indicators: unknown pattern", "pattern", p)
		return
	}
	in.play(&s)
}

// Beeps beeps n times (at most MaxBeeps), to tell a slot number, then
// returns to the background. n <= 0 does nothing.
func (in *Indicators) Beeps(n int) {
	if n <= 0 {
		return
	}
	s := beeps(min(n, MaxBeeps), in.beep)
	in.play(&s)
}

// SetBackground sets the pattern shown when nothing else is; if the
// background is showing, the new one starts now.
func (in *Indicators) SetBackground(p Pattern) {
	if _, ok := in.seqs[p]; !ok {
		in.log.Warn("gpio: indicators: unknown background pattern", "pattern", p)
		return
	}
	in.mu.Lock()
	in.bg, in.bgChanged = p, true
	in.mu.Unlock()
	in.poke()
}

// Background returns the background pattern.
func (in *Indicators) Background() Pattern {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.bg
}

// State reports which outputs are on. An absent output reads false.
func (in *Indicators) State() (green, red, buzzer bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.state[0], in.state[1], in.state[2]
}

func (in *Indicators) play(s *Sequence) {
	in.mu.Lock()
	in.pending = s
	in.mu.Unlock()
	in.poke()
}

func (in *Indicators) poke() {
	select {
	case in.wake <- struct{}{}:
	default:
	}
}

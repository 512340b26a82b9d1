package selftest

import (
	"context"
	"errors"
	"time"

	"lockd.dev/lockd/gpio"
)

// Action is what a Step asks of the installer.
type Action int

// Actions.
const (
	Inform    Action = iota // nothing to do: a message
	PressKey                // press Step.Key and let go
	OpenDoor                // open the door
	CloseDoor               // close the door
	Look                    // an output is on: is it visible or audible? (Installer.Saw)
	StandBack               // the bolt is about to move
)

// Step is one thing the walk tells or asks the installer. Text says it to
// a person; the other fields say it to a program (siminstaller).
type Step struct {
	Action Action
	Key    gpio.Key // PressKey
	Line   string   // Look: the configuration key of the output that is on
	Text   string
}

// Installer is the person at the lock, as the walk talks to them.
type Installer interface {
	// Show tells the installer what to do now. It returns at once; the
	// walk then watches the pins until what it asked for happens, the
	// installer skips, or Options.StepTimeout passes.
	Show(s Step)
	// Saw asks, while the output of a Look step is on, whether the
	// installer saw or heard it. It blocks until they answer or ctx is
	// done.
	Saw(ctx context.Context, s Step) (bool, error)
	// Skip receives a value each time the installer gives up on the step
	// shown last (a key that does not work, a door that is not there).
	Skip() <-chan struct{}
}

// Options tune the walk; the zero value is the walk an installer gets.
type Options struct {
	// OnTime is how long an output stays on for a Look step before the
	// installer is asked; zero means 1 s.
	OnTime time.Duration
	// StepTimeout is how long the walk waits for the installer to press a
	// key or move the door before it notes "no change"; zero means 30 s.
	StepTimeout time.Duration
	// Pulse is how long the motor is energised at a time; the walk looks
	// at the limit switches after each pulse. Zero means 200 ms.
	Pulse time.Duration
	// Travel bounds the time the motor is energised toward one end in
	// all; zero means 4 s (bolt.travel_timeout_ms's default).
	Travel time.Duration
	// Settle is how long after switching an output the inputs are read
	// for a short; zero means 20 ms.
	Settle time.Duration
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.OnTime, time.Second)
	def(&o.StepTimeout, 30*time.Second)
	def(&o.Pulse, 200*time.Millisecond)
	def(&o.Travel, 4*time.Second)
	def(&o.Settle, 20*time.Millisecond)
	return o
}

// errSkipped ends a step the installer skipped.
var errSkipped = errors.New("selftest: skipped by the installer")

// Run walks the board with the installer and returns what it saw. The
// order keeps the installer's work small and the bolt still until last:
// the lines at rest, each output (with a look for shorts), each key, the
// door, then the motor. Every output is off and the motor released when
// Run returns, also when ctx is cancelled; the error is ctx's or a pin's.
func Run(ctx context.Context, b Board, in Installer, opts Options) (Report, error) {
	w := &walk{b: b, in: in, o: opts.withDefaults()}
	for _, l := range b.Lines {
		w.r.Results = append(w.r.Results, Result{Pin: l.Name, Key: l.Key})
	}
	defer w.allOff()
	for _, step := range []func(context.Context) error{w.rest, w.outputs, w.keys, w.door, w.motor} {
		if err := step(ctx); err != nil {
			return w.r, err
		}
	}
	return w.r, nil
}

// walk is one run of the walk.
type walk struct {
	b  Board
	in Installer
	o  Options
	r  Report
}

// wait polls cond every few milliseconds until it holds (nil), the
// installer skips (errSkipped), StepTimeout passes (errTimeout) or ctx is
// done. Polling, not edges: a person's action lasts far longer than the
// poll, and the lines stay configured as the drivers left them.
func (w *walk) wait(ctx context.Context, cond func() bool) error {
	timeout := time.NewTimer(w.o.StepTimeout)
	defer timeout.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.in.Skip():
			return errSkipped
		case <-timeout.C:
			return errTimeout
		case <-tick.C:
		}
	}
	return nil
}

// errTimeout ends a step nothing happened in.
var errTimeout = errors.New("selftest: nothing happened in time")

// Package siminstaller plays the installer of a selftest walk on a
// simulated board (gpio/sim): it presses the keys it is asked for, opens
// and closes the door, and answers whether it sees an output by looking
// at the board's LEDs, buzzer and strike, as a person at the lock would.
// Its fields make it a careless or unlucky installer for tests.
package siminstaller

import (
	"context"
	"sync"

	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/selftest"
)

// Installer is a selftest.Installer on a sim.Board. Set the fields before
// the walk starts.
type Installer struct {
	// Skip these keys: the installer presses Enter instead, as for a key
	// that does nothing.
	SkipKeys string
	// NoDoor makes the installer skip the door steps.
	NoDoor bool

	ctx   context.Context
	board *sim.Board
	skip  chan struct{}
	hand  sync.Mutex // one key at a time, as with one finger

	mu    sync.Mutex
	steps []selftest.Step
}

var _ selftest.Installer = (*Installer)(nil)

// New returns an installer working on b until ctx is done.
func New(ctx context.Context, b *sim.Board) *Installer {
	return &Installer{ctx: ctx, board: b, skip: make(chan struct{}, 1)}
}

// Show implements selftest.Installer: it does what the step asks, on
// another goroutine for a key press, which takes a person's time.
func (in *Installer) Show(s selftest.Step) {
	in.mu.Lock()
	in.steps = append(in.steps, s)
	in.mu.Unlock()
	switch s.Action {
	case selftest.PressKey:
		if containsKey(in.SkipKeys, byte(s.Key)) {
			in.skip <- struct{}{}
			return
		}
		// An error (a key the board lacks) leaves the key unpressed, which
		// the walk notices.
		go func() {
			in.hand.Lock()
			defer in.hand.Unlock()
			in.board.Press(in.ctx, string(rune(s.Key)))
		}()
	case selftest.OpenDoor, selftest.CloseDoor:
		if in.NoDoor {
			in.skip <- struct{}{}
			return
		}
		in.board.SetDoor(s.Action == selftest.OpenDoor)
	}
}

// Saw implements selftest.Installer by looking at the part the step names.
func (in *Installer) Saw(ctx context.Context, s selftest.Step) (bool, error) {
	var out *sim.Output
	switch s.Line {
	case "indicators.led_green":
		out = in.board.Green
	case "indicators.led_red":
		out = in.board.Red
	case "indicators.buzzer":
		out = in.board.Buzzer
	case "bolt.strike_pin":
		if in.board.Strike != nil {
			out = in.board.Strike.Output
		}
	}
	return out != nil && out.On(), ctx.Err()
}

// Skip implements selftest.Installer.
func (in *Installer) Skip() <-chan struct{} { return in.skip }

// Steps returns every step shown so far.
func (in *Installer) Steps() []selftest.Step {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]selftest.Step(nil), in.steps...)
}

func containsKey(keys string, k byte) bool {
	for i := 0; i < len(keys); i++ {
		if keys[i] == k {
			return true
		}
	}
	return false
}

package panel

import (
	"context"
	"errors"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"lockd.dev/lockd/gpio/sim"
)

// A simulated finger. The hold outlasts the scanner's debounce
// (gpio.DefaultMatrixDebounce, 20 ms) several times over; the gap lets the
// scanner see every key up before the next goes down, so typing fast (or a
// pasted code) never looks like two keys held at once, which the scanner
// rightly refuses to trust.
const (
	tapHold = 80 * time.Millisecond
	tapGap  = 50 * time.Millisecond
)

// queueLen bounds the keys typed ahead of the finger, about 8 s of taps.
const queueLen = 64

// action is one thing done to the board. It may send progress messages and
// returns a final one (or nil).
type action func(ctx context.Context, send func(tea.Msg)) tea.Msg

// actuator does board actions one at a time, in the order typed, off the
// UI goroutine: a tap takes ~130 ms and the door and jam hooks of other
// consumers run inside SetOpen and SetJam.
type actuator struct {
	queue chan action
}

func newActuator() *actuator { return &actuator{queue: make(chan action, queueLen)} }

// do queues f, or returns false when the queue is full.
func (a *actuator) do(f action) bool {
	select {
	case a.queue <- f:
		return true
	default:
		return false
	}
}

// run does queued actions until ctx is cancelled.
func (a *actuator) run(ctx context.Context, send func(tea.Msg)) {
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-a.queue:
			if msg := f(ctx, send); msg != nil {
				send(msg)
			}
		}
	}
}

// tapAction presses and releases key on the board's keypad.
func tapAction(b *sim.Board, key byte) action {
	return func(ctx context.Context, send func(tea.Msg)) tea.Msg {
		send(tapMsg{key: key, down: true})
		var err error
		switch {
		case b.Matrix != nil:
			err = b.Matrix.Tap(ctx, key, tapHold)
		case b.Wiegand != nil:
			err = b.Wiegand.SendKey(ctx, key)
		default:
			err = errors.New("panel: the board has no keypad")
		}
		if err == nil {
			err = pause(ctx, tapGap)
		}
		if ctx.Err() != nil {
			err = nil // shutting down: nobody to tell
		}
		return tapMsg{key: key, err: err}
	}
}

// doorAction opens the door if it is closed and closes it if it is open.
func doorAction(b *sim.Board) action {
	return func(context.Context, func(tea.Msg)) tea.Msg {
		open := !b.Door.IsOpen()
		b.Door.SetOpen(open)
		if open {
			return noticeMsg{text: "door opened"}
		}
		return noticeMsg{text: "door closed"}
	}
}

// jamAction puts an obstacle in the bolt's way, or takes it away.
func jamAction(b *sim.Board) action {
	return func(context.Context, func(tea.Msg)) tea.Msg {
		if b.Motor == nil {
			return noticeMsg{text: "no motor to jam: this board has a strike", bad: true}
		}
		jam := !b.Motor.Jammed()
		b.Motor.SetJam(jam)
		if jam {
			return noticeMsg{text: "obstacle in the bolt's way (simulated jam)", bad: true}
		}
		return noticeMsg{text: "obstacle removed"}
	}
}

func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

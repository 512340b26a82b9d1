package selftest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"lockd.dev/lockd/gpio"
)

// end is one end of the bolt's travel, with what drives toward it and the
// switch that closes there.
type end struct {
	name          string // "locked" or "unlocked"
	dirKey, swKey string // configuration keys of its H-bridge input and limit switch
	move          func(context.Context) error
	closed        func() bool
	other         *end
}

// motor runs the bolt to the far end and back, in pulses of Options.Pulse
// through the motor driver (which never energises both directions),
// reading the limit switches after every pulse, and stops a direction at
// the first sign of a fault: the bolt not leaving its end, or arriving at
// the end it was driven away from.
func (w *walk) motor(ctx context.Context) error {
	m := w.b.Motor
	if m == nil {
		return nil
	}
	locked := &end{name: "locked", dirKey: "bolt.lock_pin", swKey: "bolt.limit_locked", move: m.Lock,
		closed: func() bool { l, _ := m.Switches(); return l }}
	unlocked := &end{name: "unlocked", dirKey: "bolt.unlock_pin", swKey: "bolt.limit_unlocked", move: m.Unlock,
		closed: func() bool { _, u := m.Switches(); return u }}
	locked.other, unlocked.other = unlocked, locked
	if locked.closed() && unlocked.closed() {
		for _, k := range []string{"bolt.lock_pin", "bolt.unlock_pin"} {
			w.r.note(k, Skipped, "motor not driven: both limit switches read closed")
		}
		return nil
	}
	first := locked
	if locked.closed() {
		first = unlocked
	}
	w.in.Show(Step{Action: StandBack, Text: "Keep clear of the bolt: it moves to the other end and back."})
	got, err := w.driveTo(ctx, first)
	if err != nil || got == fault {
		return err // a fault: driving on could drive into an end stop
	}
	_, err = w.driveTo(ctx, first.other)
	return err
}

// outcome is how a drive toward one end ended.
type outcome int

const (
	arrived outcome = iota // its switch closed
	stopped                // it did not arrive, nothing contradicts the wiring
	fault                  // the switches contradict the wiring, or the driver refused
)

// driveTo drives toward to until its switch closes, the bolt fails to
// leave the end it started at after one pulse, the switch of the other
// end closes again, or Options.Travel of driving has passed. It reports
// how it ended.
func (w *walk) driveTo(ctx context.Context, to *end) (outcome, error) {
	from := to.other
	if to.closed() {
		w.r.note(to.dirKey, Skipped, "not driven: the bolt is already at the %s end", to.name)
		return arrived, nil
	}
	atFrom := from.closed()
	left := false
	var driven time.Duration
	for driven < w.o.Travel {
		pulse := min(w.o.Pulse, w.o.Travel-driven)
		pctx, cancel := context.WithTimeout(ctx, pulse)
		start := time.Now()
		err := to.move(pctx)
		cancel()
		// The driver releases the motor the moment pctx ends, but may
		// return later (it sits in a bounded WaitForEdge): count the
		// time energised, not the time the call took.
		driven += min(time.Since(start), pulse)
		switch {
		case ctx.Err() != nil:
			return stopped, ctx.Err()
		case err != nil && !errors.Is(err, context.DeadlineExceeded):
			w.r.note(to.dirKey, NoChange, "the motor driver refused: %v", err)
			return fault, nil
		}
		if atFrom && !from.closed() && !left {
			left = true
			w.r.note(from.swKey, OK, "opened as the bolt left the %s end", from.name)
		}
		switch {
		case err == nil && to.closed():
			w.r.note(to.dirKey, OK, "drove the bolt to the %s end (%s of driving)", to.name, driven.Round(time.Millisecond))
			w.r.note(to.swKey, OK, "closed as the bolt reached the %s end", to.name)
			return arrived, nil
		case from.closed() && (left || !atFrom):
			msg := fmt.Sprintf("the %s-end switch closed while the bolt was driven toward %s: the limit switches, or the motor's two wires, are swapped",
				from.name, to.name)
			w.r.note(from.swKey, Miswired, "%s", msg)
			w.r.note(to.swKey, Miswired, "%s", msg)
			return fault, nil
		case atFrom && !left:
			w.r.note(to.dirKey, NoChange, "the bolt did not leave the %s end in %s: motor unpowered, H-bridge not wired, or the motor's two wires swapped",
				from.name, driven.Round(time.Millisecond))
			return stopped, nil
		}
	}
	if left {
		w.r.note(to.dirKey, OK, "moved the bolt off the %s end", from.name)
	} else {
		w.r.note(to.dirKey, NoChange, "no limit switch changed in %s of driving toward %s", w.o.Travel, to.name)
	}
	w.r.note(to.swKey, NoChange, "never closed in %s of driving: the bolt stopped on the way (a jam?), or the switch is not wired", w.o.Travel)
	return stopped, nil
}

var _ Motor = (*gpio.Motor)(nil)

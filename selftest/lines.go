package selftest

import (
	"context"
	"fmt"
	"time"

	pgpio "periph.io/x/conn/v3/gpio"
)

// rest configures the inputs the drivers have not (keypad columns and
// Wiegand lines, pulled up as their drivers will) and reads every input
// before anything is driven: a line at a level it cannot hold at rest is
// stuck, whatever the later steps see.
func (w *walk) rest(ctx context.Context) error {
	for i := range w.b.Lines {
		l := &w.b.Lines[i]
		var err error
		switch l.Kind {
		case Column, Data:
			err = l.Pin.In(pgpio.PullUp, pgpio.NoEdge)
		case Row:
			err = l.Pin.Out(pgpio.High) // inactive
		}
		if err != nil {
			return fmt.Errorf("selftest: %s (%s): %w", l.Name, l.Key, err)
		}
	}
	if err := sleep(ctx, w.o.Settle); err != nil {
		return err
	}
	var closed []*Line
	for _, l := range w.b.inputs() {
		low := l.Pin.Read() == pgpio.Low
		switch {
		case l.Kind == Column && low:
			w.r.note(l.Key, Stuck, "Low at rest with no key pressed: a key held down, or shorted to ground")
		case l.Kind == Data && low:
			w.r.note(l.Key, Stuck, "Low at rest: the reader is unpowered or holds it, or it is shorted to ground")
		case l.Kind == Limit && low == l.ActiveLow:
			closed = append(closed, l)
		}
	}
	if len(closed) == 2 {
		for _, l := range closed {
			w.r.note(l.Key, Stuck, "both limit switches read closed at rest: shorted together or to ground")
		}
	}
	return nil
}

// outputs switches each keypad row, LED, buzzer and strike relay on in
// turn, looks whether an input followed it (a short, or a pin configured
// twice in the wiring), and for the LEDs, buzzer and relay asks the
// installer whether they saw or heard it. The H-bridge inputs are left to
// the motor step, which drives them only through the motor driver.
func (w *walk) outputs(ctx context.Context) error {
	for i := range w.b.Lines {
		l := &w.b.Lines[i]
		if l.Kind != Row && l.Kind != Indicator && l.Kind != Strike {
			continue
		}
		if err := w.output(ctx, l); err != nil {
			return err
		}
	}
	return nil
}

func (w *walk) output(ctx context.Context, l *Line) (err error) {
	before := w.levels()
	if err := w.set(l, true); err != nil {
		return err
	}
	defer func() {
		if oerr := w.set(l, false); err == nil {
			err = oerr
		}
	}()
	if err := sleep(ctx, w.o.Settle); err != nil {
		return err
	}
	w.shorts(l, before)
	if l.Kind == Row {
		return nil
	}
	step := Step{Action: Look, Line: l.Key, Text: fmt.Sprintf("The %s (%s) is on now: do you see or hear it?", l.What, l.Name)}
	w.in.Show(step)
	if err := sleep(ctx, w.o.OnTime); err != nil {
		return err
	}
	saw, err := w.in.Saw(ctx, step)
	switch {
	case err != nil:
		return err
	case saw:
		w.r.note(l.Key, OK, "the installer saw or heard it")
	default:
		w.r.note(l.Key, NoChange, "the installer saw and heard nothing: check its wiring, resistor and supply")
	}
	return nil
}

// shorts notes every input that changed since before while out was on.
func (w *walk) shorts(out *Line, before map[string]pgpio.Level) {
	for _, in := range w.b.inputs() {
		if in.Pin.Read() != before[in.Key] {
			w.r.note(out.Key, Shorted, "switching it changed %s (%s)", in.Name, in.Key)
			w.r.note(in.Key, Shorted, "follows %s (%s)", out.Name, out.Key)
		}
	}
}

// levels reads every input.
func (w *walk) levels() map[string]pgpio.Level {
	m := map[string]pgpio.Level{}
	for _, in := range w.b.inputs() {
		m[in.Key] = in.Pin.Read()
	}
	return m
}

// set switches an output on (a row: driven Low) or off.
func (w *walk) set(l *Line, on bool) error {
	level := pgpio.Level(on != l.ActiveLow)
	if err := l.Pin.Out(level); err != nil {
		return fmt.Errorf("selftest: %s (%s): %w", l.Name, l.Key, err)
	}
	return nil
}

// allOff leaves every output inactive and the motor released, whatever
// happened: the walk must never leave the strike open or a LED on.
func (w *walk) allOff() {
	for i := range w.b.Lines {
		switch l := &w.b.Lines[i]; l.Kind {
		case Row, Indicator, Strike:
			_ = w.set(l, false) // best effort: the walk's error says more
		}
	}
	if w.b.Motor != nil {
		_ = w.b.Motor.Stop()
	}
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

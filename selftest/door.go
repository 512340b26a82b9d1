package selftest

import (
	"context"
	"errors"

	pgpio "periph.io/x/conn/v3/gpio"
)

// door asks the installer to open and close the door (closing first when
// it is open) and notes whether the sensor followed, and whether any other
// input changed with it.
func (w *walk) door(ctx context.Context) error {
	l := w.b.line("door.pin")
	if w.b.Door == nil || l == nil {
		return nil
	}
	steps := []struct {
		action Action
		open   bool
		text   string
	}{
		{OpenDoor, true, "Open the door."},
		{CloseDoor, false, "Close the door."},
	}
	if w.b.Door.Open() {
		steps[0], steps[1] = steps[1], steps[0]
	}
	seen := 0
	for _, s := range steps {
		before := w.levels()
		w.in.Show(Step{Action: s.action, Text: s.text})
		err := w.wait(ctx, func() bool { return w.b.Door.Open() == s.open })
		switch {
		case errors.Is(err, errSkipped), errors.Is(err, errTimeout):
			w.r.note(l.Key, NoChange, "still reads %s after %q", openWord(!s.open), s.text)
			continue
		case err != nil:
			return err
		}
		seen++
		w.othersChanged(l, before)
	}
	if seen == len(steps) {
		w.r.note(l.Key, OK, "followed the door open and closed")
	}
	return nil
}

// othersChanged notes the inputs besides l that changed since before,
// while only l should have.
func (w *walk) othersChanged(l *Line, before map[string]pgpio.Level) {
	for _, in := range w.b.inputs() {
		if in != l && in.Pin.Read() != before[in.Key] {
			w.r.note(l.Key, Shorted, "%s (%s) changed with it", in.Name, in.Key)
			w.r.note(in.Key, Shorted, "changed with %s (%s)", l.Name, l.Key)
		}
	}
}

func openWord(open bool) string {
	if open {
		return "open"
	}
	return "closed"
}

package gpio

import (
	"fmt"
	"reflect"

	pgpio "periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/pin"
)

// The helpers here are shared by the motor, strike, door and indicator
// drivers: they turn "active" into a level and back, per line.

// outLine is an output with its active level.
type outLine struct {
	pin       pgpio.PinOut
	activeLow bool
}

// set drives the line active (on) or inactive.
func (l outLine) set(on bool) error {
	if err := l.pin.Out(pgpio.Level(on != l.activeLow)); err != nil {
		return fmt.Errorf("%s: %w", pinName(l.pin), err)
	}
	return nil
}

// pinName is the pin's name for a message. Errors name a pin by Name,
// never by String: periph.io's gpioioctl lines print themselves as a
// JSON object over several lines, which would turn "pin GPIO16 is busy"
// into a paragraph of JSON in the journal.
func pinName(p pin.Pin) string {
	if p == nil {
		return "<nil>"
	}
	return p.Name()
}

// inLine is an input with its active level.
type inLine struct {
	pin       pgpio.PinIn
	activeLow bool
}

// setup makes the line an input with edge detection on both edges, pulled
// toward its inactive level so that an open circuit reads inactive.
func (l inLine) setup() error {
	pull := pgpio.PullDown
	if l.activeLow {
		pull = pgpio.PullUp
	}
	if err := l.pin.In(pull, pgpio.BothEdges); err != nil {
		return fmt.Errorf("%s: %w", pinName(l.pin), err)
	}
	return nil
}

// active reads the line.
func (l inLine) active() bool { return l.pin.Read() != pgpio.Level(l.activeLow) }

// samePin reports whether a and b are the same pin value. Pins are pointers
// in practice; a non-comparable pin type is never reported as the same.
func samePin(a, b any) bool {
	t := reflect.TypeOf(a)
	return t == reflect.TypeOf(b) && t.Comparable() && a == b
}

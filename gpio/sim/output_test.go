package sim

import (
	"testing"

	"periph.io/x/conn/v3/gpio"
)

func TestOutput(t *testing.T) {
	for _, low := range []bool{false, true} {
		o := NewOutput("LED", low)
		var seen []bool
		o.Notify(func(on bool) { seen = append(seen, on) })
		on, off := gpio.Level(!low), gpio.Level(low)
		for _, l := range []gpio.Level{off, on, on, off, on} {
			_ = o.Pin().Out(l)
		}
		if !o.On() || o.Transitions() != 3 {
			t.Errorf("activeLow=%t: On() = %t, Transitions() = %d, want true, 3", low, o.On(), o.Transitions())
		}
		if len(seen) != 3 || !seen[0] || seen[1] || !seen[2] {
			t.Errorf("activeLow=%t: notified %v, want [true false true]", low, seen)
		}
	}
	s := NewStrike(true)
	_ = s.Pin().Out(gpio.Low)
	if !s.Unlocked() {
		t.Error("active-low strike driven Low is not energised")
	}
}

package backoff

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	for _, r := range []float64{0, 0.5, 0.999} {
		b := New(Min, Max)
		b.rand = func() float64 { return r }
		var last time.Duration
		for i := 0; i < 12; i++ {
			d := b.Next()
			step := min(Min<<i, Max)
			if d < step/2 || d > step {
				t.Errorf("rand %v, attempt %d: %v outside [%v, %v]", r, i, d, step/2, step)
			}
			if d < last && step != Max {
				t.Errorf("rand %v, attempt %d: %v shorter than the last %v", r, i, d, last)
			}
			last = d
		}
		b.Reset()
		if d := b.Next(); d > Min {
			t.Errorf("after Reset: %v, want at most %v", d, Min)
		}
	}
}

// Package backoff is retry timing for the connections lockd's programs
// keep (lockd-mqtt's broker and bus; dbusapi has the same rule in its own
// copy): exponential, capped, with jitter, so that many locks that lost
// the same broker do not all call back at once.
package backoff

import (
	"math/rand/v2"
	"time"
)

// The defaults: the first retry within half a second (a broker or bus
// restart costs about that), doubling to 30 s for one that stays away.
const (
	Min = 500 * time.Millisecond
	Max = 30 * time.Second
)

// Backoff hands out waits drawn from [d/2, d], d doubling from min to
// max. The zero value is not usable: call New.
type Backoff struct {
	min, max time.Duration
	d        time.Duration  // the last step; 0 before the first
	rand     func() float64 // in [0, 1); a field so tests can fix it
}

// New returns a Backoff from min to max.
func New(min, max time.Duration) *Backoff {
	return &Backoff{min: min, max: max, rand: rand.Float64}
}

// Next returns how long to wait before the next attempt.
func (b *Backoff) Next() time.Duration {
	if b.d == 0 {
		b.d = b.min
	} else {
		b.d = min(2*b.d, b.max)
	}
	half := b.d / 2
	return half + time.Duration(b.rand()*float64(b.d-half))
}

// Reset starts again from min, after a success.
func (b *Backoff) Reset() { b.d = 0 }

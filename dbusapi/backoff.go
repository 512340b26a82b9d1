package dbusapi

import (
	"math/rand/v2"
	"time"
)

// Reconnect timing: the first retry comes within half a second, so a
// dbus-daemon restart costs lockd about that; the wait doubles up to 30 s,
// so a bus that stays away costs a retry a minute at most twice.
const (
	retryMin = 500 * time.Millisecond
	retryMax = 30 * time.Second
)

// backoff is exponential backoff with jitter: each wait is drawn from
// [d/2, d] with d doubling from min to max, so that locks that lost the
// same bus do not all call back at the same instant.
type backoff struct {
	min, max time.Duration
	d        time.Duration  // the last step; 0 before the first
	rand     func() float64 // in [0, 1)
}

func newBackoff() *backoff {
	return &backoff{min: retryMin, max: retryMax, rand: rand.Float64}
}

// next returns how long to wait before the next attempt.
func (b *backoff) next() time.Duration {
	if b.d == 0 {
		b.d = b.min
	} else {
		b.d = min(2*b.d, b.max)
	}
	half := b.d / 2
	return half + time.Duration(b.rand()*float64(b.d-half))
}

// reset starts again from min, after a success.
func (b *backoff) reset() { b.d = 0 }

// Package retry holds the waits of lockd's network clients (the bundle
// download, the fleet client): exponential backoff with jitter, the
// server's Retry-After, and the clock they wait on, which tests replace.
package retry

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Backoff is exponential backoff with jitter: the n-th wait (from 0) is
// drawn from [d/2, d] for d = Base·2ⁿ capped at Max, so a fleet that lost
// its server together does not come back together.
type Backoff struct {
	Base, Max time.Duration
	// Rand returns a number in [0, 1); nil is math/rand/v2.
	Rand func() float64
}

// Delay returns the wait before retry n (0 for the first retry).
func (b Backoff) Delay(n int) time.Duration {
	d := b.Max
	if n < 62 && b.Base > 0 && b.Base<<n > 0 && b.Base<<n < b.Max {
		d = b.Base << n
	}
	r := rand.Float64
	if b.Rand != nil {
		r = b.Rand
	}
	return d/2 + time.Duration(r()*float64(d/2))
}

// Jitter spreads a fixed period d over [d·(1-f), d·(1+f)], f in [0, 1).
func Jitter(d time.Duration, f float64, rnd func() float64) time.Duration {
	if rnd == nil {
		rnd = rand.Float64
	}
	return d + time.Duration((2*rnd()-1)*f*float64(d))
}

// RetryAfter reads a Retry-After header (RFC 9110: delay seconds or an
// HTTP date) and returns the wait it asks for, at most limit; ok is false
// for an absent or unreadable header. A date in the past is a wait of 0.
func RetryAfter(h http.Header, now time.Time, limit time.Duration) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" || len(v) > 64 {
		return 0, false
	}
	var d time.Duration
	if n, err := strconv.ParseUint(v, 10, 63); err == nil {
		d = limit
		if n < uint64(limit/time.Second)+1 {
			d = min(time.Duration(n)*time.Second, limit)
		}
	} else if t, err := http.ParseTime(v); err == nil {
		d = min(max(t.Sub(now), 0), limit)
	} else {
		return 0, false
	}
	return d, true
}

// Clock is what the clients wait on: the real clock, or a test's.
type Clock interface {
	Now() time.Time
	// After is time.After on this clock.
	After(d time.Duration) <-chan time.Time
}

// Real is the system clock.
type Real struct{}

// Now is time.Now.
func (Real) Now() time.Time { return time.Now() }

// After is time.After.
func (Real) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Sleep waits d on c, or until ctx ends (returning its error).
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.After(d):
		return nil
	}
}

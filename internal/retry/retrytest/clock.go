// Package retrytest holds a fake retry.Clock: time moves only when a test
// moves it, so polling and backoff are tested in microseconds and without
// a timing threshold.
package retrytest

import (
	"sort"
	"sync"
	"time"

	"lockd.dev/lockd/internal/retry"
)

// Clock is a retry.Clock that a test advances. Safe for concurrent use.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	wake    chan struct{} // closed and replaced whenever a waiter comes
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

var _ retry.Clock = &Clock{}

// New returns a clock at t.
func New(t time.Time) *Clock { return &Clock{now: t, wake: make(chan struct{})} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// After returns a channel that receives once the clock has been advanced
// by d; at once for d <= 0.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{at: c.now.Add(d), ch: ch})
	close(c.wake)
	c.wake = make(chan struct{})
	return ch
}

// Advance moves the clock by d and fires every wait that ends by then.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.fire()
}

func (c *Clock) fire() {
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

// Waiting returns how many waits are pending.
func (c *Clock) Waiting() int { c.mu.Lock(); defer c.mu.Unlock(); return len(c.waiters) }

// Next returns the time until the earliest pending wait ends; ok is false
// with none pending.
func (c *Clock) Next() (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.waiters) == 0 {
		return 0, false
	}
	sort.Slice(c.waiters, func(i, j int) bool { return c.waiters[i].at.Before(c.waiters[j].at) })
	return c.waiters[0].at.Sub(c.now), true
}

// AdvanceToNext moves the clock to the end of the earliest pending wait
// and fires it; it returns how far the clock moved (0 with none pending).
func (c *Clock) AdvanceToNext() time.Duration {
	d, ok := c.Next()
	if !ok {
		return 0
	}
	c.Advance(d)
	return d
}

// WaitForWaiters blocks, in real time, until at least n waits are
// pending or timeout passes; it reports whether they are. It is how a test
// knows the code under test has gone to sleep.
func (c *Clock) WaitForWaiters(n int, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		got, wake := len(c.waiters), c.wake
		c.mu.Unlock()
		if got >= n {
			return true
		}
		select {
		case <-wake:
		case <-deadline:
			return false
		}
	}
}

package lock

import (
	"context"
	"errors"
	"fmt"
)

// Changes made outside the core: D-Bus adds and removes codes and resets
// the lockout in the store directly. The core hears of them here, in its
// loop, so its status follows the store and the change takes its place
// among the core's events: in the audit log (the sink) and before every
// subscriber, the panel and the D-Bus Event signal included.

// refreshReq asks the loop to emit events, then re-read the store, then
// close done.
type refreshReq struct {
	events []Event
	done   chan struct{}
}

// ErrNotAnnounced is Announce's error when the core did not take the
// event (ctx ended first, or the core is not running): nothing recorded
// or published it, so the caller must.
var ErrNotAnnounced = errors.New("lock: the core did not take the event")

// Refresh makes the core re-read provisioning and lockout from the code
// store, after something other than the keypad changed them (D-Bus).
func (c *Core) Refresh(ctx context.Context) error {
	return c.refreshWith(ctx, nil)
}

// Announce makes e, a change made outside the core (a code added over
// D-Bus, with its source and caller), one of the core's events: the sink
// records it and the subscribers get it, in order with the core's own;
// then the core re-reads the store as Refresh does. It returns an error
// wrapping ErrNotAnnounced when the core did not take e, and only ctx's
// error when it did but ctx ended before the store was re-read.
func (c *Core) Announce(ctx context.Context, e Event) error {
	return c.refreshWith(ctx, []Event{e})
}

func (c *Core) refreshWith(ctx context.Context, events []Event) error {
	r := refreshReq{events: events, done: make(chan struct{})}
	select {
	case c.refresh <- r:
	case <-ctx.Done():
		if events == nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %w", ErrNotAnnounced, ctx.Err())
	}
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

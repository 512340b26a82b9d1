package hawkbit

import (
	"context"
	"errors"

	"lockd.dev/lockd/updater"
)

// Owner is the updater as the lock's owner meets it (Update1, lockctl)
// when a fleet client runs beside it: Approve and Reject decide an update
// the fleet server asks consent for when nothing is pending in the
// updater, and Waiting says that such an update waits. Everything else is
// the updater's.
type Owner struct {
	*updater.Updater
	Fleet   *Client
	changed chan struct{}
}

// NewOwner joins u and c; it forwards both one's and the other's change
// signals on Changed until ctx ends. It takes over u.Changed, of which
// there may be one reader.
func NewOwner(ctx context.Context, u *updater.Updater, c *Client) *Owner {
	o := &Owner{Updater: u, Fleet: c, changed: make(chan struct{}, 1)}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-u.Changed():
			case <-c.Changed():
			}
			select {
			case o.changed <- struct{}{}:
			default:
			}
		}
	}()
	return o
}

// Changed is signalled, coalesced, when Status may have changed.
func (o *Owner) Changed() <-chan struct{} { return o.changed }

// Status is the updater's, with Waiting naming a fleet update that waits
// for approval when the updater waits for nothing.
func (o *Owner) Status() updater.Status {
	s := o.Updater.Status()
	if s.Pending == nil && s.Waiting == "" {
		s.Waiting = o.Fleet.WaitingConsent()
	}
	return s
}

// Approve approves the pending update, or with none pending the fleet
// server's update that waits for consent.
func (o *Owner) Approve(ctx context.Context) error { return o.decide(ctx, true, o.Updater.Approve) }

// Reject rejects the pending update, or with none pending the fleet
// server's update that waits for consent.
func (o *Owner) Reject(ctx context.Context) error { return o.decide(ctx, false, o.Updater.Reject) }

func (o *Owner) decide(ctx context.Context, approve bool, own func(context.Context) error) error {
	if o.Updater.Status().Pending == nil {
		if err := o.Fleet.Decide(ctx, approve); !errors.Is(err, ErrNoConsentAsked) {
			return err
		}
	}
	return own(ctx)
}

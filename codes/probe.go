package codes

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Adding or changing a code is an oracle: it must refuse a code that is
// already stored (ErrDuplicate) or that starts or ends another
// (ErrAmbiguous), so whoever may add codes — a member of lockd-admin over
// D-Bus, the admin in programming mode — could otherwise learn every
// user's digits by trying them, thousands a second. So such a refusal is
// a wrong entry: it counts towards the lockout and the wrong-entry budget
// like a wrong code at the keypad, and while a lockout runs no code is
// added or changed at all (an answer either way would tell).

// ReasonCollision is the audit reason of an add or change refused because
// the code collides with a stored one.
const ReasonCollision = "collision"

// probeGate refuses to check a new code during a lockout. Called with
// s.mu held.
func (s *Store) probeGate(now time.Time) error {
	if until := s.lock.until(now); !until.IsZero() {
		return fmt.Errorf("codes: %w until %s: no code can be added or changed until then", ErrLockedOut, until.Format(time.RFC3339))
	}
	return nil
}

// probed counts err as a wrong entry if it is a collision, audits it, and
// returns err (with what it cost). Called with s.mu held.
func (s *Store) probed(ctx context.Context, err error, now time.Time) error {
	if !errors.Is(err, ErrDuplicate) && !errors.Is(err, ErrAmbiguous) {
		return err
	}
	v, ferr := s.failure(ctx, ReasonCollision, false, now)
	if ferr != nil {
		return errors.Join(err, ferr)
	}
	if rerr := s.record(ctx, AuditEvent{Kind: "refused", Source: "codes", Reason: ReasonCollision, UID: -1}); rerr != nil {
		s.opts.Logger.Error("codes: audit a colliding code", "err", rerr)
	}
	if v.Lockout {
		return fmt.Errorf("%w; counted as a wrong entry: the keypad is locked out until %s", err, v.Until.Format(time.RFC3339))
	}
	return fmt.Errorf("%w; counted as a wrong entry", err)
}

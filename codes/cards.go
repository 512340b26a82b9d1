package codes

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// VerifyCard checks a card presented at the reader exactly as Verify
// checks a PIN typed to open, and records its consequences durably
// before it returns. The card's numbers are neither logged nor kept.
//
//   - During a lockout it is refused (ReasonLockedOut) without a look,
//     and not counted; unprovisioned, it is refused (ReasonUnprovisioned)
//     and not counted.
//   - An unknown card is a wrong entry: it counts towards the lockout and
//     the wrong-entry budget. So does a card that matches a refused user
//     (disabled, expired, used up, out of schedule, clock untrusted): at
//     the reader it must look and count like an unknown one.
//   - A granted card is a granted entry (Verify), a non-access user's
//     card is recognised and only logged, and a two-factor user's card is
//     the first step: see Verdict.SecondFactor.
func (s *Store) VerifyCard(ctx context.Context, card Card, now time.Time) (Verdict, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, done, err := s.gate(ctx, now); done {
		return v, err
	}
	firstFactor := s.second.take(now) // a card after a card: the first one waits no longer
	if !s.provisioned {
		return Verdict{Reason: ReasonUnprovisioned, Failures: s.lock.failures}, nil
	}
	if card.Check() != nil {
		return s.failure(ctx, ReasonUnknown, false, now)
	}
	c, err := s.lookupCredential(ctx, s.dig.card(card))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && c.kind == KindAdmin) {
		return s.failure(ctx, ReasonUnknown, false, now)
	}
	if err != nil {
		return Verdict{Reason: ReasonError}, fmt.Errorf("codes: verify card: %w", err)
	}
	return s.decide(ctx, c, false, firstFactor, now)
}

// ErrCardTaken is the collision of a card: it is enrolled already. It
// matches ErrDuplicate too, so it counts as a wrong entry (probe.go).
var ErrCardTaken error = cardTaken{}

type cardTaken struct{}

func (cardTaken) Error() string        { return "card already enrolled" }
func (cardTaken) Is(target error) bool { return target == ErrDuplicate }

// AddCard enrols card as a credential of user (an id of Users). A card
// already enrolled, to anyone, is refused with ErrCardTaken and counts as
// a wrong entry, like a colliding code (probe.go): otherwise whoever may
// enrol cards could test cloned or guessed cards for validity. The admin
// holds no card. It returns the credential's id.
func (s *Store) AddCard(ctx context.Context, user int64, card Card, now time.Time) (int64, error) {
	if err := card.Check(); err != nil {
		return 0, err
	}
	var id int64
	err := s.enrol(ctx, now, func(tx *sql.Tx) (err error) {
		if err := s.userForCredential(ctx, tx, user); err != nil {
			return err
		}
		id, err = s.insertCard(ctx, tx, user, card, now)
		return err
	})
	return id, err
}

// EnrolCard is programming mode's "4 SLOT #" then a card: it enrols card
// to the user in keypad slot slot, or with slot 0 to a new user (kind
// user) in the next free slot, and returns the slot. Collisions count as
// in AddCard.
func (s *Store) EnrolCard(ctx context.Context, slot int, card Card, now time.Time) (int, error) {
	if err := card.Check(); err != nil {
		return 0, err
	}
	err := s.enrol(ctx, now, func(tx *sql.Tx) error {
		var user int64
		var err error
		if slot == 0 {
			if slot, err = s.nextSlot(ctx, tx); err != nil {
				return err
			}
			user, err = s.insertUser(ctx, tx, "", AddOptions{Kind: KindUser}, slot, now)
		} else {
			err = tx.QueryRowContext(ctx, "SELECT id FROM users WHERE slot = ?", slot).Scan(&user)
			if errors.Is(err, sql.ErrNoRows) {
				err = fmt.Errorf("codes: enrol card: no user in slot %d: %w", slot, ErrNotFound)
			}
		}
		if err != nil {
			return err
		}
		_, err = s.insertCard(ctx, tx, user, card, now)
		return err
	})
	return slot, err
}

// enrol runs fn, a change that adds a credential, in one write: refused
// before a look while unprovisioned or locked out, and a collision counts
// (probed).
func (s *Store) enrol(ctx context.Context, now time.Time, fn func(*sql.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkOpen(); err != nil {
		return err
	}
	if !s.provisioned {
		return fmt.Errorf("codes: add credential: %w", ErrUnprovisioned)
	}
	if err := s.probeGate(now); err != nil {
		return err
	}
	if err := s.write(ctx, fn); err != nil {
		return s.probed(ctx, err, now)
	}
	return nil
}

// insertCard stores card as a credential of user.
func (s *Store) insertCard(ctx context.Context, tx *sql.Tx, user int64, card Card, now time.Time) (int64, error) {
	digest := s.dig.card(card)
	if err := s.checkNew(ctx, tx, digest, ErrCardTaken); err != nil {
		return 0, err
	}
	return s.insertCredential(ctx, tx, user, CredentialCard, digest, ErrCardTaken, now)
}

// userForCredential checks that user exists and may hold another
// credential (not the admin, whose one credential is the admin code).
func (s *Store) userForCredential(ctx context.Context, tx *sql.Tx, user int64) error {
	var kind string
	err := tx.QueryRowContext(ctx, "SELECT kind FROM users WHERE id = ?", user).Scan(&kind)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("codes: add credential: no user %d: %w", user, ErrNotFound)
	case err != nil:
		return fmt.Errorf("codes: add credential: %w", err)
	case Kind(kind) == KindAdmin:
		return invalidf("codes: the admin holds only the admin code: add credentials to users")
	}
	return nil
}

package codes

import (
	"context"
	"crypto/hmac"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Purpose says what a keypad entry is for. Its values equal lock.Purpose,
// so the core converts with codes.Purpose(p).
type Purpose int

// Purposes of an entry.
const (
	PurposeOpen  Purpose = iota // "CODE #"
	PurposeAdmin                // "* ADMIN #" on a provisioned unit
	PurposeSetup                // "* SETUP #" on an unprovisioned unit
)

// Refusal reasons, the same strings as the lock core's Reason constants.
const (
	ReasonUnknown         = "unknown"
	ReasonDisabled        = "disabled"
	ReasonOutsideSchedule = "outside-schedule" // also: before valid-from
	ReasonExpired         = "expired"
	ReasonUsedUp          = "used-up"
	ReasonLockedOut       = "locked-out"
	ReasonUnprovisioned   = "unprovisioned"
	ReasonClockUntrusted  = "clock-untrusted"
	ReasonError           = "error"
)

// Verdict is the answer to one entry. It has the fields of lock.Verdict
// in the same order, so the core converts with lock.Verdict(v).
type Verdict struct {
	OK       bool
	Reason   string // why not, one of the Reason constants, when !OK
	CodeID   int64  // the matching code, when one matched
	Slot     int    // its keypad slot, 0 for the admin code
	Kind     string // its Kind; "setup" for the setup code
	Duress   bool   // a duress code: open, and raise a silent duress event
	Lockout  bool   // this entry started or extended a lockout
	Until    time.Time
	Failures int // consecutive wrong entries after this one
	// UserID is the user of the matching credential; Credential its
	// type ("pin" or "card"). CodeID is the credential's id.
	UserID     int64
	Credential string
	// NonAccess: a credential of a non-access user. Nothing opens and
	// nothing is counted; the core only records the event.
	NonAccess bool
	// SecondFactor: the card of a two-factor user was accepted as the
	// first step. Nothing opens and nothing is counted; the user's PIN
	// opens until Until (Options.TwoFactorWindow).
	SecondFactor bool
}

// Err returns nil for a granted entry and otherwise an error wrapping
// ErrLockedOut or ErrRefused, for callers that want one (D-Bus).
func (v Verdict) Err() error {
	switch {
	case v.OK:
		return nil
	case v.Reason == ReasonLockedOut:
		return fmt.Errorf("codes: entry refused: %w until %s", ErrLockedOut, v.Until.Format(time.RFC3339))
	}
	return fmt.Errorf("codes: %w: %s", ErrRefused, v.Reason)
}

// Verify checks one keypad entry and records its consequences durably
// before it returns: the failure count and lockout, a use of a one-time
// or limited code. The digits are neither logged nor kept.
//
//   - During a lockout every entry is refused (ReasonLockedOut) without
//     being looked at, admin and setup codes included, and not counted.
//   - Unprovisioned: PurposeOpen and PurposeAdmin are refused
//     (ReasonUnprovisioned) without a check and not counted (they test no
//     secret); PurposeSetup checks the setup code and a wrong one counts,
//     so the setup code cannot be guessed faster than any other code.
//   - A wrong entry (no such code, anything but 4..12 digits, a user code
//     for PurposeAdmin, the admin code for PurposeOpen, the setup code once
//     provisioned) counts towards the lockout. So does an entry that
//     matches a code that is refused (disabled, expired, used up, out of
//     schedule, clock untrusted): at the keypad it must look and take
//     exactly like a wrong one (the same durable write), or the person
//     there would learn that the code exists. The audit log keeps the
//     real reason for the owner.
//   - A granted entry resets the consecutive count, except that only the
//     admin code forgives wrong admin entries. Otherwise anyone with a
//     user code could search the admin code space without ever being
//     locked out (four guesses, own code, four guesses, ...). For the same
//     reason the admin code does not open: it is for programming mode
//     only, and the owner keeps a user code to open with. No grant lowers
//     the wrong-entry budget (LockoutPolicy.Budget), which bounds the
//     same trick against the user codes.
//
// An error means the store failed; the verdict is then not OK.
func (s *Store) Verify(ctx context.Context, p Purpose, code string, now time.Time) (Verdict, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, done, err := s.gate(ctx, now); done {
		return v, err
	}
	firstFactor := s.second.take(now) // good for this entry only, whatever it is
	if p == PurposeSetup {
		if s.provisioned || s.setup == nil || len(code) != SetupDigits || !hmac.Equal(s.dig.setup(code), s.setup) {
			return s.failure(ctx, ReasonUnknown, true, now)
		}
		return s.grant(ctx, nil, Verdict{Kind: "setup"}, now)
	}
	if !s.provisioned {
		return Verdict{Reason: ReasonUnprovisioned, Failures: s.lock.failures}, nil
	}
	admin := p == PurposeAdmin
	if !validSyntax(code) {
		return s.failure(ctx, ReasonUnknown, admin, now)
	}
	c, err := s.lookupCredential(ctx, s.dig.code(code))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && admin != (c.kind == KindAdmin)) {
		return s.failure(ctx, ReasonUnknown, admin, now)
	}
	if err != nil {
		return Verdict{Reason: ReasonError}, fmt.Errorf("codes: verify: %w", err)
	}
	return s.decide(ctx, c, admin, firstFactor, now)
}

// gate answers an entry that is not looked at (done): a closed store, or
// a running lockout, during which nothing is checked or counted and a
// waiting card is forgotten. Called with s.mu held.
func (s *Store) gate(ctx context.Context, now time.Time) (v Verdict, done bool, err error) {
	if err := s.checkOpen(); err != nil {
		return Verdict{Reason: ReasonError}, true, err
	}
	if until := s.lock.until(now); !until.IsZero() {
		s.second = pendingFactor{}
		v := Verdict{Reason: ReasonLockedOut, Until: until, Failures: s.lock.failures}
		return v, true, s.checkpointLockout(ctx, now)
	}
	return Verdict{}, false, nil
}

// decide is the verdict on an entry that matched credential c, PIN or
// card alike (see Verify), once the lockout and the syntax were checked.
// firstFactor is the two-factor user whose card came just before (0:
// none).
func (s *Store) decide(ctx context.Context, c *credRow, admin bool, firstFactor int64, now time.Time) (Verdict, error) {
	base := Verdict{CodeID: c.id, Slot: c.slot, Kind: string(c.kind), UserID: c.userID, Credential: string(c.typ)}
	if why := s.refusal(c, now); why != "" {
		return s.failed(ctx, base, why, admin, now)
	}
	if c.kind == KindNonAccess {
		s.noteUse(c.userID, now)
		base.Reason, base.NonAccess, base.Failures = ReasonNonAccess, true, s.lock.failures
		return base, nil
	}
	if c.twoFactor {
		switch {
		case c.typ == CredentialCard:
			s.second = pendingFactor{user: c.userID, until: now.Add(s.opts.TwoFactorWindow)}
			base.Reason, base.SecondFactor, base.Until, base.Failures = ReasonPINNeeded, true, s.second.until, s.lock.failures
			return base, nil
		case firstFactor != c.userID:
			return s.failed(ctx, base, ReasonCardMissing, admin, now)
		}
	}
	return s.grant(ctx, c, base, now)
}

// failed counts a refused entry that matched a credential like a wrong
// one, keeping what matched in the verdict for the audit log.
func (s *Store) failed(ctx context.Context, base Verdict, why string, admin bool, now time.Time) (Verdict, error) {
	v, err := s.failure(ctx, why, admin, now)
	v.CodeID, v.Slot, v.Kind, v.UserID, v.Credential = base.CodeID, base.Slot, base.Kind, base.UserID, base.Credential
	return v, err
}

// grant accepts an entry (c is nil for the setup code). A use of a
// limited user, the first use of an after-first-use user and a change of
// the failure count are written before it returns; uses of unlimited
// users wait for the next write (usage.go).
func (s *Store) grant(ctx context.Context, c *credRow, v Verdict, now time.Time) (Verdict, error) {
	limited := c != nil && c.usesLeft.Valid
	first := c != nil && c.expireAfter.Valid && !c.firstUsed.Valid
	next := lockoutState{level: s.lock.level, levelAt: s.lock.levelAt} // no grant refills the budget
	if c != nil && c.kind != KindAdmin {                               // a user code does not forgive admin guesses
		next.failures, next.adminFailures = s.lock.adminFailures, s.lock.adminFailures
		if next.failures > 0 {
			next.end, next.duration = s.lock.end, s.lock.duration // ended: the until check passed
		}
	}
	if limited || first || next.failures != s.lock.failures {
		old := s.lock
		s.lock = next
		err := s.write(ctx, func(tx *sql.Tx) error {
			if limited {
				r, err := tx.ExecContext(ctx, "UPDATE users SET uses_left = uses_left - 1, uses = uses + 1, last_used_us = ? WHERE id = ? AND uses_left > 0", micros(now), c.userID)
				if err != nil {
					return err
				}
				if n, _ := r.RowsAffected(); n != 1 {
					return errors.New("use not recorded")
				}
			}
			if first {
				if _, err := tx.ExecContext(ctx, "UPDATE users SET first_used_us = ? WHERE id = ? AND first_used_us IS NULL", micros(now), c.userID); err != nil {
					return err
				}
			}
			return s.saveLockout(ctx, tx, now)
		})
		if err != nil {
			s.lock = old
			return Verdict{Reason: ReasonError, CodeID: v.CodeID, Slot: v.Slot, Kind: v.Kind, Failures: old.failures,
					UserID: v.UserID, Credential: v.Credential},
				fmt.Errorf("codes: record granted entry: %w", err)
		}
	}
	if c != nil && !limited {
		s.noteUse(c.userID, now)
	}
	v.OK, v.Reason, v.Failures = true, "", s.lock.failures
	v.Duress = c != nil && c.kind == KindDuress
	return v, nil
}

// refusal returns why a matching code is refused at now, or "".
func (s *Store) refusal(c *credRow, now time.Time) string {
	switch {
	case !c.enabled:
		return ReasonDisabled
	case c.usesLeft.Valid && c.usesLeft.Int64 <= 0:
		return ReasonUsedUp
	case s.vacation && !c.vacation && c.kind != KindAdmin:
		return ReasonVacation // opmode.go
	}
	if c.weekdays == 0 && !c.validFrom.Valid && !c.validUntil.Valid && !c.expireAfter.Valid {
		return ""
	}
	if !s.clockTrusted(now) {
		return ReasonClockUntrusted
	}
	switch {
	case c.validUntil.Valid && micros(now) >= c.validUntil.Int64:
		return ReasonExpired
	case c.expireAfter.Valid && c.firstUsed.Valid &&
		micros(now) >= c.firstUsed.Int64+c.expireAfter.Int64*time.Minute.Microseconds():
		return ReasonExpired
	case c.validFrom.Valid && micros(now) < c.validFrom.Int64:
		return ReasonOutsideSchedule
	case c.weekdays != 0 && !inWindow(c.weekdays, c.from, c.until, now, s.opts.Location):
		return ReasonOutsideSchedule
	}
	return ""
}

// clockTrusted: not before the build time, and synchronised if a check
// is configured.
func (s *Store) clockTrusted(now time.Time) bool {
	if now.Before(s.opts.BuildTime) {
		return false
	}
	return s.opts.ClockSynced == nil || s.opts.ClockSynced()
}

// credRow is what Verify needs of a stored credential and its user.
type credRow struct {
	id                    int64 // the credential
	typ                   CredentialType
	userID                int64
	kind                  Kind
	slot                  int
	enabled               bool
	weekdays              Weekdays
	from, until           TimeOfDay
	validFrom, validUntil sql.NullInt64
	usesLeft              sql.NullInt64
	twoFactor             bool
	expireAfter           sql.NullInt64 // minutes
	firstUsed             sql.NullInt64
	vacation              bool
}

const lookupSQL = `SELECT c.id, c.type, u.id, u.kind, coalesce(u.slot, 0), u.enabled, u.weekdays, u.from_min, u.until_min,
	u.valid_from_us, u.valid_until_us, u.uses_left, u.two_factor, u.expire_after_min, u.first_used_us, u.vacation
	FROM credentials c JOIN users u ON u.id = c.user_id WHERE c.digest = ?`

func (s *Store) lookupCredential(ctx context.Context, digest []byte) (*credRow, error) {
	var c credRow
	err := s.lookup.QueryRowContext(ctx, digest).Scan(&c.id, &c.typ, &c.userID, &c.kind, &c.slot, &c.enabled, &c.weekdays,
		&c.from, &c.until, &c.validFrom, &c.validUntil, &c.usesLeft, &c.twoFactor, &c.expireAfter, &c.firstUsed, &c.vacation)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

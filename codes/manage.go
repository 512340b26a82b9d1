package codes

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// MaxLabel is the longest label in bytes.
const MaxLabel = 64

// SetAdmin sets the admin code, replacing the old one. On an
// unprovisioned unit it provisions it, which burns the setup code: the
// setup code is accepted only while no admin code exists. The code must
// pass CheckRule for KindAdmin and be unambiguous with the other codes.
// Whether the caller may do this (programming mode, D-Bus permission) is
// the caller's decision.
func (s *Store) SetAdmin(ctx context.Context, code string, now time.Time) error {
	if err := CheckRule(code, KindAdmin); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkOpen(); err != nil {
		return err
	}
	if err := s.probeGate(now); err != nil {
		return err
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		var old int64
		err := tx.QueryRowContext(ctx, "SELECT id FROM users WHERE kind = 'admin'").Scan(&old)
		if err == nil {
			err = s.deleteUser(ctx, tx, old)
		}
		if err != nil && err != sql.ErrNoRows {
			return fmt.Errorf("codes: set admin: %w", err)
		}
		_, err = s.insertCode(ctx, tx, code, "", AddOptions{Kind: KindAdmin}, 0, now)
		return err
	})
	if err != nil {
		return s.probed(ctx, err, now)
	}
	if !s.provisioned {
		s.provisioned = true
		s.opts.Logger.Info("codes: unit provisioned: admin code set, setup code burnt")
	}
	return nil
}

// AddUser adds a user code to the next free slot and returns the slot
// (keypad programming mode: "1 CODE # CODE #").
func (s *Store) AddUser(ctx context.Context, code string, now time.Time) (slot int, err error) {
	info, err := s.add(ctx, "", code, AddOptions{Kind: KindUser}, now)
	return info.Slot, err
}

// Add stores a code of any kind but admin under label, in the next free
// slot, and returns its Info (ID and Slot are what callers need). It
// refuses a code that breaks a rule (*RuleError, ErrWeakCode), is already
// stored (ErrDuplicate) or starts or ends another (ErrAmbiguous), bad
// options or label (ErrInvalid), and any code before the admin code is set
// (ErrUnprovisioned). Nothing changes when it fails.
func (s *Store) Add(ctx context.Context, label, code string, o AddOptions) (Info, error) {
	return s.add(ctx, label, code, o, s.opts.Now())
}

func (s *Store) add(ctx context.Context, label, code string, o AddOptions, now time.Time) (Info, error) {
	if err := checkLabel(label); err != nil {
		return Info{}, err
	}
	o, err := o.validate()
	if err != nil {
		return Info{}, err
	}
	if err := CheckRule(code, o.Kind); err != nil {
		return Info{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkOpen(); err != nil {
		return Info{}, err
	}
	if !s.provisioned {
		return Info{}, fmt.Errorf("codes: add: %w", ErrUnprovisioned)
	}
	if err := s.probeGate(now); err != nil {
		return Info{}, err
	}
	var info Info
	err = s.write(ctx, func(tx *sql.Tx) error {
		slot, err := s.nextSlot(ctx, tx)
		if err != nil {
			return err
		}
		user, err := s.insertUser(ctx, tx, label, o, slot, now)
		if err != nil {
			return err
		}
		id, err := s.insertPIN(ctx, tx, user, code, now)
		info = infoFor(id, user, slot, label, o, now)
		return err
	})
	if err != nil {
		return Info{}, s.probed(ctx, err, now)
	}
	return info, nil
}

// insertCode stores a new user with one PIN credential, code, and
// returns the credential's id, the one the audit log and Codes1 name.
// slot 0 is the admin code's (NULL).
func (s *Store) insertCode(ctx context.Context, tx *sql.Tx, code, label string, o AddOptions, slot int, now time.Time) (int64, error) {
	user, err := s.insertUser(ctx, tx, label, o, slot, now)
	if err != nil {
		return 0, err
	}
	return s.insertPIN(ctx, tx, user, code, now)
}

// insertUser stores a user without credentials. slot 0 is the admin's.
func (s *Store) insertUser(ctx context.Context, tx *sql.Tx, label string, o AddOptions, slot int, now time.Time) (int64, error) {
	var slotArg, usesLeft, from, until, expire any
	if slot > 0 {
		slotArg = slot
	}
	if o.Uses > 0 {
		usesLeft = o.Uses
	}
	if !o.ValidFrom.IsZero() {
		from = micros(o.ValidFrom)
	}
	if !o.ValidUntil.IsZero() {
		until = micros(o.ValidUntil)
	}
	if o.ExpireAfter > 0 {
		expire = int64(o.ExpireAfter / time.Minute)
	}
	r, err := tx.ExecContext(ctx, `INSERT INTO users (kind, slot, label, weekdays, from_min, until_min,
		valid_from_us, valid_until_us, uses_left, created_us, two_factor, expire_after_min, vacation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		string(o.Kind), slotArg, label, int(o.Weekdays), int(o.From), int(o.Until), from, until, usesLeft, micros(now), o.TwoFactor, expire,
		o.Vacation)
	if err != nil {
		return 0, fmt.Errorf("codes: add user: %w", err)
	}
	id, err := r.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("codes: add user: %w", err)
	}
	return id, nil
}

// insertPIN checks that code is new and unambiguous and stores it with
// its affixes as a PIN credential of user.
func (s *Store) insertPIN(ctx context.Context, tx *sql.Tx, user int64, code string, now time.Time) (int64, error) {
	digest := s.dig.code(code)
	if err := s.checkNew(ctx, tx, digest, ErrDuplicate); err != nil {
		return 0, err
	}
	if err := s.checkUnambiguous(ctx, tx, code); err != nil {
		return 0, err
	}
	id, err := s.insertCredential(ctx, tx, user, CredentialPIN, digest, ErrDuplicate, now)
	if err != nil {
		return 0, err
	}
	return id, s.insertAffixes(ctx, tx, id, code)
}

// checkNew returns dup if a credential with digest is stored.
func (s *Store) checkNew(ctx context.Context, tx *sql.Tx, digest []byte, dup error) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM credentials WHERE digest = ?", digest).Scan(&n); err != nil {
		return fmt.Errorf("codes: add: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("codes: add: %w", dup)
	}
	return nil
}

// insertCredential stores a credential row; a digest stored meanwhile is
// dup.
func (s *Store) insertCredential(ctx context.Context, tx *sql.Tx, user int64, t CredentialType, digest []byte, dup error, now time.Time) (int64, error) {
	r, err := tx.ExecContext(ctx, "INSERT INTO credentials (user_id, type, digest, created_us) VALUES (?, ?, ?, ?)",
		user, string(t), digest, micros(now))
	if err != nil {
		if se, ok := err.(sqlite3.Error); ok && se.Code == sqlite3.ErrConstraint {
			return 0, fmt.Errorf("codes: add: %w", dup)
		}
		return 0, fmt.Errorf("codes: add: %w", err)
	}
	id, err := r.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("codes: add: %w", err)
	}
	return id, nil
}

// nextSlot returns the lowest free slot number.
func (s *Store) nextSlot(ctx context.Context, tx *sql.Tx) (int, error) {
	var slot int
	err := tx.QueryRowContext(ctx, `SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM users WHERE slot = 1) THEN 1
		ELSE (SELECT c.slot + 1 FROM users c WHERE c.slot IS NOT NULL
			AND NOT EXISTS (SELECT 1 FROM users d WHERE d.slot = c.slot + 1) ORDER BY c.slot LIMIT 1) END`).Scan(&slot)
	if err != nil {
		return 0, fmt.Errorf("codes: next slot: %w", err)
	}
	if s.opts.MaxSlots > 0 && slot > s.opts.MaxSlots {
		return 0, fmt.Errorf("codes: add: %w (all %d taken)", ErrFull, s.opts.MaxSlots)
	}
	return slot, nil
}

// checkLabel: printable UTF-8, at most MaxLabel bytes.
func checkLabel(label string) error {
	if len(label) > MaxLabel || !utf8.ValidString(label) ||
		strings.IndexFunc(label, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return fmt.Errorf("codes: label must be printable UTF-8 of at most %d bytes: %w", MaxLabel, ErrInvalid)
	}
	return nil
}

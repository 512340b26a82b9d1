package codes

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// The lock's operating mode (lock.OperatingMode: normal, vacation,
// privacy, passage, no-remote) is one meta row. The store keeps it
// rather than a file of its own so that it shares the database's
// durability (WAL, synchronous=FULL) and its copy before a migration: a
// mode that the owner set survives restarts, power cuts and updates like
// the codes do. The store does not interpret the mode; the lock core
// validates it.

const metaOperatingMode = "operating_mode"

// ReasonPrivacy is the lock core's refusal of an entry in privacy mode:
// no code is looked at and nothing is counted (as during a lockout), so
// the audit log keeps repeats of it as one row with a count.
const ReasonPrivacy = "privacy"

// ReasonVacation refuses, in vacation mode, a credential of a user not
// marked for it (AddOptions.Vacation). It is refused like a disabled
// code: counted, with the same lights, so the keypad tells nobody which
// codes exist.
const ReasonVacation = "vacation"

// maxModeName bounds what SetOperatingMode stores.
const maxModeName = 32

// OperatingMode returns the stored operating mode, "" when none was ever
// set (the lock's default, normal).
func (s *Store) OperatingMode(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkOpen(); err != nil {
		return "", err
	}
	var v []byte
	err := s.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", metaOperatingMode).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("codes: read operating mode: %w", err)
	}
	return string(v), nil
}

// SetOperatingMode stores mode and returns once it is durable.
func (s *Store) SetOperatingMode(ctx context.Context, mode string) error {
	if !metaWord(mode, maxModeName) {
		return invalidf("codes: operating mode %.40q: want a word of a-z and -", mode)
	}
	if err := s.putMeta(ctx, metaOperatingMode, []byte(mode)); err != nil {
		return err
	}
	s.mu.Lock()
	s.vacation = mode == "vacation"
	s.mu.Unlock()
	return nil
}

// loadMode reads the mode at open (with s.mu held or before use).
func (s *Store) loadMode(ctx context.Context) error {
	var v []byte
	err := s.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", metaOperatingMode).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	s.vacation = string(v) == "vacation"
	return err
}

// putMeta writes one meta row (nil: deletes it) and returns once that is
// durable.
func (s *Store) putMeta(ctx context.Context, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkOpen(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if value == nil {
			_, err = tx.ExecContext(ctx, "DELETE FROM meta WHERE key = ?", key)
		} else {
			_, err = tx.ExecContext(ctx, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value)
		}
		if err != nil {
			return fmt.Errorf("codes: write %s: %w", key, err)
		}
		return nil
	})
}

// metaWord reports whether w is 1..max bytes of a-z and '-': the names
// the lock core stores (modes, alarms), and nothing that could be read
// as a key of another meta row.
func metaWord(w string, max int) bool {
	if w == "" || len(w) > max {
		return false
	}
	for i := 0; i < len(w); i++ {
		if (w[i] < 'a' || w[i] > 'z') && w[i] != '-' {
			return false
		}
	}
	return true
}

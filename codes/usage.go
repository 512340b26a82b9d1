package codes

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Uses and last-used times of users without a use limit are informational
// (List shows them; the audit log is the record), so a grant does not pay
// a synchronous write for them: they ride along with the next write
// (normally the core's audit event for the same entry, a moment later) or
// Close. A power cut can lose the last few; it can never lose a use of a
// one-time or limited code, which is written before Verify returns.
//
// The map, keyed by user id, holds at most one entry per stored user, so
// it is bounded by the number of users even if nothing else is written.
type usage struct {
	n    int
	last time.Time
}

func (s *Store) noteUse(id int64, now time.Time) {
	u := s.usage[id]
	u.n++
	u.last = now
	s.usage[id] = u
}

// flushUsage writes the pending uses in tx; write clears them once the
// transaction committed.
func (s *Store) flushUsage(ctx context.Context, tx *sql.Tx) error {
	for id, u := range s.usage {
		_, err := tx.ExecContext(ctx, "UPDATE users SET uses = uses + ?, last_used_us = max(coalesce(last_used_us, 0), ?) WHERE id = ?",
			u.n, micros(u.last), id)
		if err != nil {
			return fmt.Errorf("codes: record uses: %w", err)
		}
	}
	return nil
}

package codes

import (
	"context"
	"time"
)

// WrongEntriesLeft returns how many more wrong entries the keypad takes
// before one of them starts a lockout, that one included: the nearer of
// the consecutive count (Threshold) and the wrong-entry budget (Budget),
// as the lock's panel shows it. It is 0 while a lockout runs. It says
// nothing about any code, so anyone who can see the lock may read it.
//
// The budget drains with running time, so the answer can only grow until
// the next wrong entry; nothing is written.
func (s *Store) WrongEntriesLeft(ctx context.Context, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	if !s.lock.until(now).IsZero() {
		return 0, nil
	}
	return s.opts.Lockout.left(s.lock, now), nil
}

// left is WrongEntriesLeft of l at now outside a lockout. failure locks
// out when the consecutive count reaches Threshold or the budget spent
// reaches Budget (count); both go up by exactly one per wrong entry.
// Past either (a lockout that ended without a grant since), the next
// wrong entry locks out again: 1.
func (p LockoutPolicy) left(l lockoutState, now time.Time) int {
	l.drain(now, p.Refill) // a copy: only a write moves the stored level
	return max(1, min(p.Threshold-l.failures, p.Budget-l.spent()))
}

package codes

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"
)

// How the lockout survives restarts, power cuts and clock jumps:
//
// Every change (a wrong entry, a reset) writes the failure count, the
// wall-clock end, the time remaining and the length of the lockout step,
// durably, before Verify returns. While it runs, the remaining time is
// written again at most every checkpointEvery (on refused entries and on
// LockedOutUntil), once when it is seen to have ended, and on Close.
//
// On Open the lockout resumes with the larger of (stored end - now) and
// the stored remaining time, capped at the step's length:
//   - a power cut resumes at least what was left at the last write, so it
//     never shortens a lockout (time powered off does not count: no one
//     can guess while the lock is off);
//   - a clock that jumped forward (or was wrong before) cannot end it
//     early, because the remaining time does not depend on the clock;
//   - a clock that jumped backwards cannot stretch it beyond one step (at
//     most Max), because of the cap.
//
// While running, the end is a time.Time taken from the caller's now; when
// callers pass time.Now() values it carries Go's monotonic reading and
// wall-clock steps do not move it at all.
//
// The wrong-entry budget (LockoutPolicy.Budget, Refill) is a leaky bucket:
// its level is written with every change of the lockout row, drains by one
// entry per Refill of running time, and resumes after a restart at the
// level last written: time powered off does not drain it, so a power cut
// never gives anyone more guesses. Nothing but time lowers it: not a
// granted entry, not ResetLockout. The long-run rate of wrong entries is
// therefore at most one per max(Refill, Max), whoever holds which code.

// checkpointEvery bounds how often a running lockout's remaining time is
// rewritten, so a stream of entries during a lockout cannot wear the
// flash. A power cut between checkpoints resumes at least the time left at
// the last one: the lockout only ever gets longer, never shorter.
// (BenchmarkKeypadAttacker: 30 s here made 126 writes an hour of attack.)
const checkpointEvery = 5 * time.Minute

// lockoutRow is the stored form; times in µs.
type lockoutRow struct {
	failures      int
	adminFailures int
	untilUS       int64
	remainingUS   int64
	durationUS    int64
	levelMilli    int64 // the wrong-entry budget spent, in thousandths of an entry
}

const lockoutSelect = "SELECT failures, admin_failures, until_us, remaining_us, duration_us, level_milli FROM lockout WHERE id = 1"

func (r *lockoutRow) fields() []any {
	return []any{&r.failures, &r.adminFailures, &r.untilUS, &r.remainingUS, &r.durationUS, &r.levelMilli}
}

// lockoutState is the in-memory form.
type lockoutState struct {
	failures      int           // consecutive wrong entries
	adminFailures int           // wrong admin entries among them: only an admin grant forgives them
	end           time.Time     // end of the last lockout step; zero if none since the count was reset
	duration      time.Duration // length of that step
	savedAt       time.Time     // when the remaining time was last written
	savedRem      time.Duration // what was written then
	level         float64       // wrong-entry budget spent as of levelAt, in entries
	levelAt       time.Time     // zero: not drained since Open
}

// drain lowers the budget level by the time since it was last drained. A
// now before levelAt (a wall clock set back) drains nothing.
func (l *lockoutState) drain(now time.Time, refill time.Duration) {
	if !l.levelAt.IsZero() && now.After(l.levelAt) {
		l.level = max(0, l.level-float64(now.Sub(l.levelAt))/float64(refill))
	}
	l.levelAt = now
}

// spent is the number of wrong entries in the budget: one is forgotten
// only once it has fully drained.
func (l *lockoutState) spent() int { return int(math.Ceil(l.level - 1e-9)) }

// count is the failure count the lockout step is taken from: the
// consecutive wrong entries, or the budget's, whichever is further along
// (the Budget-th entry in the budget counts as the Threshold-th
// consecutive one).
func (p LockoutPolicy) count(l *lockoutState) int {
	return max(l.failures, l.spent()-p.Budget+p.Threshold)
}

// step is how long the failures-th consecutive wrong entry locks out.
func (p LockoutPolicy) step(failures int) time.Duration {
	if failures < p.Threshold {
		return 0
	}
	d := p.Base
	for i := p.Threshold; i < failures && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// until returns the end of the running lockout, or zero.
func (l *lockoutState) until(now time.Time) time.Time {
	if !l.end.IsZero() && now.Before(l.end) {
		return l.end
	}
	return time.Time{}
}

func (l *lockoutState) remaining(now time.Time) time.Duration {
	if u := l.until(now); !u.IsZero() {
		return u.Sub(now)
	}
	return 0
}

// saveLockout writes the lockout state as of now in tx.
func (s *Store) saveLockout(ctx context.Context, tx *sql.Tx, now time.Time) error {
	rem := s.lock.remaining(now)
	var until int64
	if rem > 0 {
		until = now.Add(rem).UnixMicro()
	}
	s.lock.drain(now, s.opts.Lockout.Refill)
	level := int64(math.Ceil(s.lock.level * 1000)) // rounded up: stricter
	_, err := tx.ExecContext(ctx, "UPDATE lockout SET failures = ?, admin_failures = ?, until_us = ?, remaining_us = ?, duration_us = ?, level_milli = ? WHERE id = 1",
		s.lock.failures, s.lock.adminFailures, until, rem.Microseconds(), s.lock.duration.Microseconds(), level)
	if err != nil {
		return fmt.Errorf("codes: save lockout: %w", err)
	}
	s.lock.savedAt, s.lock.savedRem = now, rem
	return nil
}

// resume is how much of a stored lockout is left at now (see above).
func (r lockoutRow) resume(now time.Time) time.Duration {
	rem := time.Duration(r.remainingUS) * time.Microsecond
	if r.untilUS > 0 {
		if byClock := time.UnixMicro(r.untilUS).Sub(now); byClock > rem {
			rem = byClock
		}
	}
	return max(0, min(rem, time.Duration(r.durationUS)*time.Microsecond))
}

// loadLockout resumes the stored lockout (merged with that of a newer
// database set aside by a restore) and writes it back as of now.
func (s *Store) loadLockout(ctx context.Context, now time.Time) error {
	var r lockoutRow
	err := s.db.QueryRowContext(ctx, lockoutSelect).Scan(r.fields()...)
	if err != nil {
		return fmt.Errorf("codes: load lockout: %w", err)
	}
	rem := r.resume(now)
	if c := s.carry; c != nil {
		r.failures = max(r.failures, c.failures)
		r.adminFailures = max(r.adminFailures, c.adminFailures)
		r.durationUS = max(r.durationUS, c.durationUS)
		r.levelMilli = max(r.levelMilli, c.levelMilli)
		rem = max(rem, c.resume(now))
	}
	s.lock = lockoutState{failures: r.failures, adminFailures: r.adminFailures, duration: time.Duration(r.durationUS) * time.Microsecond,
		level: float64(max(r.levelMilli, 0)) / 1000, levelAt: now}
	if rem > 0 {
		s.lock.end = now.Add(rem)
		s.opts.Logger.Warn("codes: keypad lockout resumed", "failures", r.failures, "remaining", rem)
	}
	if rem == 0 && r.remainingUS == 0 && s.carry == nil {
		return nil
	}
	return s.write(ctx, func(tx *sql.Tx) error { return s.saveLockout(ctx, tx, now) })
}

// failure counts one wrong entry (admin: for programming mode), starting
// or extending a lockout at the threshold, and writes it before returning.
// The count goes up in memory even if the write fails: stricter is the
// safe side.
func (s *Store) failure(ctx context.Context, reason string, admin bool, now time.Time) (Verdict, error) {
	s.lock.failures++
	if admin {
		s.lock.adminFailures++
	}
	s.lock.drain(now, s.opts.Lockout.Refill)
	s.lock.level++
	v := Verdict{Reason: reason, Failures: s.lock.failures}
	if d := s.opts.Lockout.step(s.opts.Lockout.count(&s.lock)); d > 0 {
		s.lock.end, s.lock.duration = now.Add(d), d
		v.Lockout, v.Until = true, s.lock.end
		s.opts.Logger.Warn("codes: keypad locked out", "failures", s.lock.failures, "budget_spent", s.lock.spent(), "for", d)
	}
	if err := s.write(ctx, func(tx *sql.Tx) error { return s.saveLockout(ctx, tx, now) }); err != nil {
		return v, fmt.Errorf("codes: record wrong entry: %w", err)
	}
	return v, nil
}

// checkpointLockout rewrites the remaining time of a running lockout (at
// most every checkpointEvery) and records once that it has ended.
func (s *Store) checkpointLockout(ctx context.Context, now time.Time) error {
	if s.lock.end.IsZero() {
		return nil
	}
	rem := s.lock.remaining(now)
	if rem == 0 && s.lock.savedRem == 0 {
		return nil
	}
	if since := now.Sub(s.lock.savedAt); rem > 0 && since >= 0 && since < checkpointEvery {
		return nil
	}
	return s.write(ctx, func(tx *sql.Tx) error { return s.saveLockout(ctx, tx, now) })
}

// LockedOutUntil returns the end of the running lockout, or zero. It also
// records the remaining time (see checkpointEvery), so call it when a
// lockout timer fires.
func (s *Store) LockedOutUntil(ctx context.Context, now time.Time) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkOpen(); err != nil {
		return time.Time{}, err
	}
	return s.lock.until(now), s.checkpointLockout(ctx, now)
}

// ResetLockout clears the failure count and ends a running lockout (the
// D-Bus ResetLockout for the owner; never reachable from the keypad). It
// does not touch the wrong-entry budget, and it refuses to end a lockout
// while the budget is spent (ErrLockedOut): otherwise anyone allowed to
// call it could guess at the keypad between calls. The owner can still
// open over D-Bus meanwhile.
func (s *Store) ResetLockout(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkOpen(); err != nil {
		return err
	}
	now := s.opts.Now()
	s.lock.drain(now, s.opts.Lockout.Refill)
	if until := s.lock.until(now); !until.IsZero() && s.lock.spent() >= s.opts.Lockout.Budget {
		return fmt.Errorf("codes: reset lockout: %w until %s: %d wrong entries within the budget of %d (one is forgotten every %s); this lockout cannot be cleared early",
			ErrLockedOut, until.Format(time.RFC3339), s.lock.spent(), s.opts.Lockout.Budget, s.opts.Lockout.Refill)
	}
	old := s.lock
	s.lock = lockoutState{level: old.level, levelAt: old.levelAt}
	if err := s.write(ctx, func(tx *sql.Tx) error { return s.saveLockout(ctx, tx, now) }); err != nil {
		s.lock = old
		return err
	}
	return nil
}

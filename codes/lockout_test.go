package codes

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestLockoutSteps(t *testing.T) {
	p := LockoutPolicy{Threshold: 5, Base: 30 * time.Second, Max: time.Hour}
	for f, want := range map[int]time.Duration{
		0: 0, 4: 0, 5: 30 * time.Second, 6: time.Minute, 7: 2 * time.Minute,
		11: 32 * time.Minute, 12: time.Hour, 13: time.Hour, 1000: time.Hour,
	} {
		if got := p.step(f); got != want {
			t.Errorf("step(%d) = %v, want %v", f, got, want)
		}
	}
}

func TestLockout(t *testing.T) {
	e := newEnv(t)
	// The consecutive count alone; TestWrongEntryBudget covers the budget.
	e.opts.Lockout.Budget = 1000
	s := e.provisioned()
	ctx := context.Background()
	e.add(s, "24680", AddOptions{Kind: KindUser})
	now := t0
	for i := 1; i <= 4; i++ {
		if v := verify(t, s, PurposeOpen, "99999999", now); v.Lockout || v.Failures != i || v.Reason != ReasonUnknown {
			t.Fatalf("wrong entry %d: %+v", i, v)
		}
	}
	v := verify(t, s, PurposeOpen, "99999999", now)
	if !v.Lockout || !v.Until.Equal(now.Add(30*time.Second)) || v.Failures != 5 {
		t.Fatalf("5th wrong entry: %+v", v)
	}
	// Everything is refused, admin and a right code included, and not counted.
	for _, p := range []Purpose{PurposeOpen, PurposeAdmin, PurposeSetup} {
		for _, c := range []string{"24680", adminCode, e.setup} {
			if v := verify(t, s, p, c, now.Add(29*time.Second)); v.OK || v.Reason != ReasonLockedOut || v.Failures != 5 || !v.Until.Equal(now.Add(30*time.Second)) {
				t.Errorf("during lockout: %+v", v)
			}
		}
	}
	if err := verify(t, s, PurposeOpen, "24680", now).Err(); !isErr(err, ErrLockedOut) {
		t.Errorf("Verdict.Err() = %v", err)
	}
	if err := v.Err(); !isErr(err, ErrRefused) {
		t.Errorf("Verdict.Err() = %v", err)
	}
	// Each further wrong entry doubles it, up to Max.
	want := 30 * time.Second
	for i := 6; i <= 14; i++ {
		now = v.Until
		want = min(2*want, time.Hour)
		v = verify(t, s, PurposeOpen, "99999999", now)
		if !v.Lockout || v.Until.Sub(now) != want {
			t.Fatalf("wrong entry %d: %+v, want %v", i, v, want)
		}
	}
	if until, _ := s.LockedOutUntil(ctx, now); !until.Equal(v.Until) {
		t.Errorf("LockedOutUntil = %v", until)
	}
	// A granted entry resets the count.
	now = v.Until
	if v := verify(t, s, PurposeOpen, "24680", now); !v.OK || v.Failures != 0 {
		t.Fatalf("after lockout: %+v", v)
	}
	if v := verify(t, s, PurposeOpen, "99999999", now); v.Lockout || v.Failures != 1 {
		t.Errorf("count not reset: %+v", v)
	}
	// So does the owner.
	if err := s.ResetLockout(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Status(ctx, now); st.Failures != 0 || !st.LockedOutUntil.IsZero() || st.Codes != 2 || !st.Provisioned {
		t.Errorf("status: %+v", st)
	}
}

// lockedOut returns a store whose lockout (60 s step) started at t0.
func lockedOut(t *testing.T) (*env, *Store) {
	e := newEnv(t)
	e.opts.Lockout = LockoutPolicy{Threshold: 2, Base: time.Minute, Max: time.Hour}
	s := e.provisioned()
	verify(t, s, PurposeOpen, "99999999", t0)
	if v := verify(t, s, PurposeOpen, "99999999", t0); !v.Lockout {
		t.Fatal(v)
	}
	return e, s
}

func TestLockoutSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		close bool          // clean shutdown, or a crash (store left open)
		clock time.Duration // where the clock is at restart, relative to t0
		want  time.Duration // at least this much left after restart
	}{
		{"clean restart", true, 10 * time.Second, 50 * time.Second},
		{"crash", false, 10 * time.Second, 50 * time.Second},
		{"crash, clock jumped back a day", false, -24 * time.Hour, 60 * time.Second},
		{"crash, clock jumped forward a day", false, 24 * time.Hour, 60 * time.Second},
		{"clean restart, clock jumped forward", true, 2 * time.Hour, 50 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, s := lockedOut(t)
			if tc.close {
				// 10 s into the lockout; Close records what is left.
				e.clk.Advance(10 * time.Second)
				s.Close()
			}
			now := t0.Add(tc.clock)
			clock := now
			e.opts.Now = func() time.Time { return clock }
			s2 := e.open()
			until, err := s2.LockedOutUntil(ctx, now)
			if err != nil {
				t.Fatal(err)
			}
			left := until.Sub(now)
			if left < tc.want || left > time.Minute {
				t.Errorf("%v left after restart, want %v..1m", left, tc.want)
			}
			if v := verify(t, s2, PurposeAdmin, adminCode, now); v.Reason != ReasonLockedOut || v.Failures != 2 {
				t.Errorf("admin during resumed lockout: %+v", v)
			}
			// Once it has run out (and been seen to), it stays ended.
			end := until
			clock = end
			s2.LockedOutUntil(ctx, end)
			s2.Close()
			s3 := e.open()
			if u, _ := s3.LockedOutUntil(ctx, end); !u.IsZero() {
				t.Errorf("ended lockout resumed: %v", u.Sub(end))
			}
			// The count survives: the next wrong entry doubles.
			if v := verify(t, s3, PurposeOpen, "99999999", end); !v.Lockout || v.Until.Sub(end) != 2*time.Minute {
				t.Errorf("after restart: %+v", v)
			}
		})
	}
}

func TestLockoutCheckpoint(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.opts.Lockout = LockoutPolicy{Threshold: 1, Base: time.Hour, Max: time.Hour}
	s := e.provisioned()
	verify(t, s, PurposeOpen, "99999999", t0)
	read := func() (rem int64) {
		s.db.QueryRow("SELECT remaining_us FROM lockout").Scan(&rem)
		return rem
	}
	// Refused entries rewrite the remaining time, at most every checkpointEvery.
	verify(t, s, PurposeOpen, "24680", t0.Add(10*time.Second))
	if got := read(); got != time.Hour.Microseconds() {
		t.Errorf("checkpoint after 10 s: %d", got)
	}
	verify(t, s, PurposeOpen, "24680", t0.Add(40*time.Minute))
	if got := read(); got != (20 * time.Minute).Microseconds() {
		t.Errorf("checkpoint after 40 min: %d", got)
	}
	s.LockedOutUntil(ctx, t0.Add(61*time.Minute))
	if got := read(); got != 0 {
		t.Errorf("end not recorded: %d", got)
	}
}

// Someone with a user code cannot search the admin code space by
// resetting the count with their own code between guesses.
func TestUserCodeDoesNotForgiveAdminGuesses(t *testing.T) {
	e := newEnv(t)
	s := e.provisioned()
	e.add(s, "24680", AddOptions{Kind: KindUser})
	now := t0
	for i := 1; i <= 4; i++ {
		verify(t, s, PurposeAdmin, fmt.Sprintf("9%05d", i), now)
		if v := verify(t, s, PurposeOpen, "24680", now); !v.OK || v.Failures != i {
			t.Fatalf("user code after %d admin guesses: %+v", i, v)
		}
	}
	if v := verify(t, s, PurposeAdmin, "900005", now); !v.Lockout {
		t.Fatalf("5th admin guess: %+v", v)
	}
	// The count survives a restart; an admin grant clears it.
	s.Close()
	s = e.open()
	now = now.Add(time.Minute)
	if v := verify(t, s, PurposeOpen, "24680", now); !v.OK || v.Failures != 5 {
		t.Fatalf("user code after lockout: %+v", v)
	}
	if v := verify(t, s, PurposeAdmin, adminCode, now); !v.OK || v.Failures != 0 {
		t.Fatalf("admin code: %+v", v)
	}
	if v := verify(t, s, PurposeOpen, "99999999", now); v.Failures != 1 {
		t.Errorf("count not cleared by the admin code: %+v", v)
	}
	// Wrong open entries are forgiven by a user code, as usual.
	if v := verify(t, s, PurposeOpen, "24680", now); !v.OK || v.Failures != 0 {
		t.Errorf("user code after a wrong open entry: %+v", v)
	}
}

package codes

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// guestAttack plays the best strategy of someone who holds a valid code
// (own) and guesses at the keypad for d from start, one entry per every:
// while the keypad is locked out they wait; before the guess that would be
// the Threshold-th consecutive wrong one they type their own code, which
// resets the consecutive count. It returns how many guesses they made.
func guestAttack(t testing.TB, s *Store, own string, start time.Time, d, every time.Duration) int {
	t.Helper()
	ctx := context.Background()
	guesses := 0
	for now := start; now.Before(start.Add(d)); now = now.Add(every) {
		st, err := s.Status(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if !st.LockedOutUntil.IsZero() {
			now = st.LockedOutUntil.Add(-every) // wait it out
			continue
		}
		if st.Failures == s.opts.Lockout.Threshold-1 {
			if v := verify(t, s, PurposeOpen, own, now); !v.OK {
				t.Fatalf("own code refused at %v: %+v", now, v)
			}
			continue
		}
		// Distinct 8-digit guesses that are no code here.
		verify(t, s, PurposeOpen, fmt.Sprintf("9%07d", guesses), now)
		guesses++
	}
	return guesses
}

// TestGuestCannotDefeatTheLimit is the attack of issue 11: four guesses,
// the guest's own code, four guesses, ... Before the wrong-entry budget the
// lockout never started.
func TestGuestCannotDefeatTheLimit(t *testing.T) {
	e := newEnv(t)
	s := e.provisioned()
	ctx := context.Background()
	e.add(s, "24680", AddOptions{Kind: KindUser}) // the owner's: the target
	e.add(s, "3917", AddOptions{Kind: KindExpiring, ValidFrom: t0.Add(-time.Hour), ValidUntil: t0.Add(30 * 24 * time.Hour)})

	now := t0
	wrong := 0
	for round := 0; round < 4; round++ {
		for i := 0; i < 4; i++ {
			v := verify(t, s, PurposeOpen, fmt.Sprintf("%d%d5555", round, i), now)
			wrong++
			if v.Lockout {
				if wrong != DefaultBudget {
					t.Errorf("locked out at wrong entry %d, want %d", wrong, DefaultBudget)
				}
				if until, _ := s.LockedOutUntil(ctx, now); !until.Equal(now.Add(DefaultBase)) {
					t.Errorf("LockedOutUntil %v, want %v", until, now.Add(DefaultBase))
				}
				return
			}
			now = now.Add(2 * time.Second)
		}
		if v := verify(t, s, PurposeOpen, "3917", now); !v.OK {
			t.Fatalf("guest code: %+v", v)
		}
		now = now.Add(2 * time.Second)
	}
	t.Fatalf("16 wrong entries interleaved with a guest code and no lockout")
}

// TestGuessRateBound: over a day, the guest's best strategy gets the
// budget, the few entries while the steps double up to Max, and one per
// Refill; not thousands.
func TestGuessRateBound(t *testing.T) {
	e := newEnv(t)
	s := e.provisioned()
	e.add(s, "3917", AddOptions{Kind: KindExpiring, ValidFrom: t0.Add(-time.Hour), ValidUntil: t0.Add(30 * 24 * time.Hour)})
	day := 24 * time.Hour
	got := guestAttack(t, s, "3917", t0, day, 2*time.Second)
	// Steps from Base doubling to Max: log2(1 h / 30 s) < 7, plus the
	// budget, plus one per Refill.
	bound := DefaultBudget + 8 + int(day/DefaultRefill)
	t.Logf("%d guesses in a day (bound %d)", got, bound)
	if got > bound {
		t.Errorf("%d guesses in a day with a guest code, want at most %d", got, bound)
	}
}

// TestBudgetLeavesTheOwnerAlone: a typo, then the right code, several
// times a day for weeks never locks out; nor do a few typos in a row.
func TestBudgetLeavesTheOwnerAlone(t *testing.T) {
	e := newEnv(t)
	s := e.provisioned()
	e.add(s, "24680", AddOptions{Kind: KindUser})
	now := t0
	for day := 0; day < 30; day++ {
		for _, hour := range []int{7, 8, 12, 18, 22} { // comes and goes, always with a typo
			at := now.Add(time.Duration(day*24+hour) * time.Hour)
			if v := verify(t, s, PurposeOpen, "24681", at); v.Lockout {
				t.Fatalf("day %d %02d:00: a typo locked out: %+v", day, hour, v)
			}
			if v := verify(t, s, PurposeOpen, "24680", at.Add(3*time.Second)); !v.OK {
				t.Fatalf("day %d %02d:00: right code refused: %+v", day, hour, v)
			}
		}
	}
	// Four typos in a row, then the right code: still open.
	at := now.Add(31 * 24 * time.Hour)
	for i := 0; i < DefaultThreshold-1; i++ {
		verify(t, s, PurposeOpen, "24681", at)
	}
	if v := verify(t, s, PurposeOpen, "24680", at); !v.OK {
		t.Errorf("after four typos: %+v", v)
	}
}

// TestBudgetDrainsAndSurvivesPowerCuts: the budget empties with running
// time only; a crash or clean restart resumes it at least as full.
func TestBudgetDrainsAndSurvivesPowerCuts(t *testing.T) {
	ctx := context.Background()
	spend := func(s *Store, n int, at time.Time) {
		for i := 0; i < n; i++ {
			verify(t, s, PurposeOpen, fmt.Sprintf("9%07d", i), at)
			if i%(DefaultThreshold-1) == DefaultThreshold-2 {
				s.ResetLockout(ctx) // keep the consecutive count out of it
			}
		}
	}
	for _, tc := range []struct {
		name  string
		close bool
	}{{"crash", false}, {"clean restart", true}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			s := e.provisioned()
			spend(s, DefaultBudget-1, t0)
			if tc.close {
				s.Close()
			}
			// Off for a day: no drain.
			e.clk.Advance(24 * time.Hour)
			s2 := e.open()
			now := e.clk.Now()
			if v := verify(t, s2, PurposeOpen, "98765432", now); !v.Lockout {
				t.Fatalf("budget lost over a restart: %+v", v)
			}
			// Running time drains it: Budget Refills later it is empty.
			e.clk.Advance(DefaultBudget * DefaultRefill)
			now = e.clk.Now()
			if err := s2.ResetLockout(ctx); err != nil {
				t.Fatalf("ResetLockout with the budget drained: %v", err)
			}
			if v := verify(t, s2, PurposeOpen, "98765431", now); v.Lockout {
				t.Errorf("drained budget still locks out: %+v", v)
			}
		})
	}
}

// TestResetLockoutCannotBypassTheBudget: the owner may clear a lockout of
// consecutive typos, but not one of a spent budget (a member of
// lockd-admin could otherwise guess at the keypad between resets).
func TestResetLockoutCannotBypassTheBudget(t *testing.T) {
	e := newEnv(t)
	s := e.provisioned()
	ctx := context.Background()
	for i := 0; i < DefaultThreshold; i++ {
		verify(t, s, PurposeOpen, fmt.Sprintf("9%07d", i), t0)
	}
	if err := s.ResetLockout(ctx); err != nil {
		t.Fatalf("reset of a consecutive lockout: %v", err)
	}
	for i := 0; i < DefaultBudget-DefaultThreshold; i++ {
		verify(t, s, PurposeOpen, fmt.Sprintf("8%07d", i), t0)
	}
	err := s.ResetLockout(ctx)
	if !isErr(err, ErrLockedOut) {
		t.Fatalf("ResetLockout with the budget spent: %v, want ErrLockedOut", err)
	}
	if until, _ := s.LockedOutUntil(ctx, t0); until.IsZero() {
		t.Error("lockout ended by a refused reset")
	}
}

// TestCollisionsCount: adding a code that is stored, or starts or ends
// one, is a guess and counts; during a lockout nothing is checked.
func TestCollisionsCount(t *testing.T) {
	e := newEnv(t)
	s := e.provisioned()
	ctx := context.Background()
	e.add(s, "24680", AddOptions{Kind: KindUser})
	for i := 1; i < DefaultThreshold; i++ {
		_, err := s.Add(ctx, "probe", "24680", AddOptions{Kind: KindUser})
		if !isErr(err, ErrDuplicate) {
			t.Fatalf("probe %d: %v", i, err)
		}
		if st, _ := s.Status(ctx, t0); st.Failures != i {
			t.Fatalf("probe %d: %d failures", i, st.Failures)
		}
	}
	_, err := s.Add(ctx, "probe", "2468", AddOptions{Kind: KindUser}) // a prefix
	if !isErr(err, ErrAmbiguous) {
		t.Fatalf("prefix probe: %v", err)
	}
	if until, _ := s.LockedOutUntil(ctx, t0); until.IsZero() {
		t.Fatal("no lockout after Threshold colliding adds")
	}
	// Locked out: a colliding and a fresh code get the same answer.
	_, e1 := s.Add(ctx, "probe", "24680", AddOptions{Kind: KindUser})
	_, e2 := s.Add(ctx, "fresh", "7391", AddOptions{Kind: KindUser})
	if !isErr(e1, ErrLockedOut) || !isErr(e2, ErrLockedOut) || e1.Error() != e2.Error() {
		t.Errorf("during a lockout: %v / %v, want the same ErrLockedOut", e1, e2)
	}
	if err := s.SetAdmin(ctx, "975318", t0); !isErr(err, ErrLockedOut) {
		t.Errorf("SetAdmin during a lockout: %v", err)
	}
	log, _ := s.Log(ctx, 0, 100)
	n := 0
	for _, ev := range log {
		if ev.Reason == ReasonCollision {
			n++
		}
	}
	if n != DefaultThreshold {
		t.Errorf("%d collisions audited, want %d", n, DefaultThreshold)
	}
}

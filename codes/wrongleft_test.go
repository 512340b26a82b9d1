package codes

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestWrongEntriesLeft counts down with the wrong entries, whichever of
// the consecutive count and the budget is nearer, is 0 during a lockout,
// and grows back only as the budget drains.
func TestWrongEntriesLeft(t *testing.T) {
	e := newEnv(t)
	s := e.provisioned()
	e.add(s, "24680", AddOptions{Kind: KindUser})
	now := t0
	guesses := 0
	wrong := func() Verdict {
		guesses++
		now = now.Add(time.Second)
		return verify(t, s, PurposeOpen, fmt.Sprintf("9%07d", guesses), now)
	}
	open := func() {
		now = now.Add(time.Second)
		if v := verify(t, s, PurposeOpen, "24680", now); !v.OK {
			t.Fatalf("own code refused: %+v", v)
		}
	}
	left := func() int {
		t.Helper()
		n, err := s.WrongEntriesLeft(context.Background(), now)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := left(); got != DefaultThreshold {
		t.Fatalf("fresh: %d left, want %d", got, DefaultThreshold)
	}
	for i := 1; i < DefaultThreshold; i++ {
		wrong()
		if got, want := left(), DefaultThreshold-i; got != want {
			t.Fatalf("after %d wrong entries: %d left, want %d", i, got, want)
		}
	}
	if v := wrong(); !v.Lockout {
		t.Fatalf("the %d-th wrong entry did not lock out: %+v", DefaultThreshold, v)
	}
	if got := left(); got != 0 {
		t.Fatalf("during the lockout: %d left, want 0", got)
	}
	now = now.Add(DefaultBase)
	if got := left(); got != 1 {
		t.Fatalf("after the lockout, without a grant: %d left, want 1", got)
	}
	// A grant resets the consecutive count, not the budget: 5 of its 10
	// are spent, as near as the count.
	open()
	if got := left(); got != DefaultBudget-DefaultThreshold {
		t.Fatalf("after a grant: %d left, want %d", got, DefaultBudget-DefaultThreshold)
	}
	wrong()
	wrong()
	open()
	if got, want := left(), DefaultBudget-DefaultThreshold-2; got != want {
		t.Fatalf("7 of the budget spent: %d left, want %d", got, want)
	}
	if v := wrong(); v.Lockout {
		t.Fatalf("locked out with entries left: %+v", v)
	}
	now = now.Add(2 * DefaultRefill) // two forgotten
	if got, want := left(), DefaultBudget-DefaultThreshold-1; got != want {
		t.Fatalf("after two refills: %d left, want %d", got, want)
	}
	for range left() - 1 {
		wrong()
	}
	if got := left(); got != 1 {
		t.Fatalf("one before the budget's lockout: %d left", got)
	}
	if v := wrong(); !v.Lockout {
		t.Fatalf("the last entry left did not lock out: %+v", v)
	}
}

package lock_test

import (
	"testing"
	"time"
)

// TestStatusRelockAt: Status says when the auto-relock fires while its
// countdown runs, and nothing while the door holds it off or once it ran.
func TestStatusRelockAt(t *testing.T) {
	c, _, clk := doorCore(t, nil)
	if at := c.Status().RelockAt; !at.IsZero() {
		t.Fatalf("locked: relock at %v", at)
	}
	c.StepKeys("2580#")
	if got, want := c.Status().RelockAt, clk.Now().Add(30*time.Second); !got.Equal(want) {
		t.Fatalf("unlocked, door closed: relock at %v, want %v", got, want)
	}
	c.StepDoor(true)
	if at := c.Status().RelockAt; !at.IsZero() {
		t.Fatalf("door open: relock at %v, want none", at)
	}
	clk.Advance(time.Minute)
	c.StepDoor(false)
	if got, want := c.Status().RelockAt, clk.Now().Add(30*time.Second); !got.Equal(want) {
		t.Fatalf("door closed again: relock at %v, want %v", got, want)
	}
	clk.Advance(30 * time.Second)
	c.StepTimers()
	if st := c.Status(); !st.RelockAt.IsZero() || st.State != "locked" {
		t.Fatalf("after the relock: %q, relock at %v", st.State, st.RelockAt)
	}
}

// TestStatusWrongLeft: Status counts the wrong entries left before a
// lockout down with each wrong entry, is 0 during the lockout, and is
// back once a code is granted.
func TestStatusWrongLeft(t *testing.T) {
	c, _, clk := doorCore(t, nil)
	if n := c.Status().WrongLeft; n != 5 {
		t.Fatalf("at start: %d left, want 5", n)
	}
	for i := 1; i <= 4; i++ {
		c.StepKeys("9999#")
		if n := c.Status().WrongLeft; n != 5-i {
			t.Fatalf("after %d wrong entries: %d left, want %d", i, n, 5-i)
		}
	}
	c.StepKeys("9999#")
	if st := c.Status(); st.WrongLeft != 0 || st.LockedOutUntil.IsZero() {
		t.Fatalf("after 5 wrong entries: %d left, locked out until %v", st.WrongLeft, st.LockedOutUntil)
	}
	clk.Advance(30 * time.Second)
	c.StepTimers()
	if n := c.Status().WrongLeft; n != 1 {
		t.Fatalf("after the lockout: %d left, want 1 (the next wrong entry locks out again)", n)
	}
	c.StepKeys("2580#")
	if n := c.Status().WrongLeft; n != 5 {
		t.Fatalf("after a granted code: %d left, want 5", n)
	}
}

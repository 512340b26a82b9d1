package main

import (
	"strings"
	"testing"
	"time"

	"lockd.dev/lockd/lock"
)

// TestRebootQuiet: a reboot into an update waits for a locked bolt, a
// closed door, no lockout, an idle keypad and two minutes without a key,
// and says which it waits for.
func TestRebootQuiet(t *testing.T) {
	now := time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)
	quiet := lock.Status{State: lock.StateLocked, Mode: "idle"}
	for _, tc := range []struct {
		name   string
		change func(*lock.Status)
		want   string // part of the answer; "" means reboot now
	}{
		{"all quiet", func(*lock.Status) {}, ""},
		{"never a key since start", func(s *lock.Status) { s.LastKey = time.Time{} }, ""},
		{"mode not reported yet", func(s *lock.Status) { s.Mode = "" }, ""},
		{"unlocked", func(s *lock.Status) { s.State = lock.StateUnlocked }, "the bolt to be locked (it is unlocked)"},
		{"moving", func(s *lock.Status) { s.State = lock.StateLocking }, "the bolt to be locked (it is locking)"},
		{"jammed", func(s *lock.Status) { s.State = lock.StateJammed }, "the bolt to be locked (it is jammed)"},
		{"unknown", func(s *lock.Status) { s.State = lock.StateUnknown }, "the bolt to be locked (it is unknown)"},
		{"door open", func(s *lock.Status) { s.DoorOpen = true }, "the door to close"},
		{"locked out", func(s *lock.Status) { s.LockedOutUntil = now.Add(time.Second) }, "the keypad lockout to end"},
		{"lockout over", func(s *lock.Status) { s.LockedOutUntil = now.Add(-time.Second) }, ""},
		{"programming", func(s *lock.Status) { s.Mode = "programming" }, "the keypad to leave programming mode"},
		{"key just now", func(s *lock.Status) { s.LastKey = now }, "two minutes without a key press"},
		{"key 119 s ago", func(s *lock.Status) { s.LastKey = now.Add(-119 * time.Second) }, "two minutes without a key press"},
		{"key 2 min ago", func(s *lock.Status) { s.LastKey = now.Add(-2 * time.Minute) }, ""},
		{"bolt first", func(s *lock.Status) { s.State = lock.StateUnlocked; s.DoorOpen = true }, "the bolt to be locked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := quiet
			st.LastKey = now.Add(-time.Hour)
			tc.change(&st)
			got := rebootQuiet(func() lock.Status { return st }, func() time.Time { return now })()
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("status %+v: waits for %q, want %q", st, got, tc.want)
			}
		})
	}
}

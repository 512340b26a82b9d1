package lock

import (
	"context"
	"fmt"
	"time"
)

// Unavailable returns a code store that refuses everything with err: what
// the core runs on when the real store cannot be opened. The keypad then
// opens nothing, the bolt stays where it is, and Status carries err as a
// health warning, while the rest of lockd (D-Bus, updates) keeps answering.
func Unavailable(err error) Codes { return unavailable{err} }

type unavailable struct{ err error }

func (u unavailable) fail() error { return fmt.Errorf("lock: code store unavailable: %w", u.err) }

func (u unavailable) Provisioned(context.Context) (bool, error) { return false, u.fail() }
func (u unavailable) Verify(context.Context, Purpose, string, time.Time) (Verdict, error) {
	return Verdict{Reason: ReasonError}, u.fail()
}
func (u unavailable) SetAdmin(context.Context, string, time.Time) error { return u.fail() }
func (u unavailable) AddUser(context.Context, string, time.Time) (int, error) {
	return 0, u.fail()
}
func (u unavailable) RemoveSlot(context.Context, int, time.Time) error { return u.fail() }
func (u unavailable) LockedOutUntil(context.Context, time.Time) (time.Time, error) {
	return time.Time{}, u.fail()
}
func (u unavailable) WrongEntriesLeft(context.Context, time.Time) (int, error) { return 0, u.fail() }

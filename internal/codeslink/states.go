package codeslink

import (
	"context"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/lock"
)

// States is a *codes.Store as the lock core's lock.StateStore: the
// operating mode and the listed alarms live in the code database, with
// its durability and its copies before a migration.
type States struct{ *codes.Store }

var _ lock.StateStore = States{}

// Alarms returns the stored alarms.
func (s States) Alarms(ctx context.Context) ([]lock.AlarmRecord, error) {
	as, err := s.Store.Alarms(ctx)
	out := make([]lock.AlarmRecord, 0, len(as))
	for _, a := range as {
		out = append(out, lock.AlarmRecord(a))
	}
	return out, err
}

// SaveAlarm stores a.
func (s States) SaveAlarm(ctx context.Context, a lock.AlarmRecord) error {
	return s.Store.SaveAlarm(ctx, codes.Alarm(a))
}

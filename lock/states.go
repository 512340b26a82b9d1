package lock

import (
	"context"
	"time"
)

// StateStore keeps what the lock must not forget across restarts and
// power cuts besides the codes: the operating mode and the listed alarms
// (the code store, through codeslink.States). Every write returns once it
// is durable; the core answers a change only after that. OperatingMode
// returns "" when none was ever set.
type StateStore interface {
	OperatingMode(ctx context.Context) (string, error)
	SetOperatingMode(ctx context.Context, mode string) error
	Alarms(ctx context.Context) ([]AlarmRecord, error)
	SaveAlarm(ctx context.Context, a AlarmRecord) error
	DeleteAlarm(ctx context.Context, name string) error
}

// AlarmRecord is a listed alarm as the store keeps it; it has the fields
// of codes.Alarm, so codeslink converts with a type conversion.
type AlarmRecord struct {
	Name   string
	Raised time.Time
	Reason string
	Acked  bool
}

// loadMode reads the stored operating mode at start. A mode this lockd
// does not know (written by a newer one) or an unreadable store falls
// back to normal, and the health warning says so.
func (c *Core) loadMode(ctx context.Context) {
	m := ModeNormal
	if c.cfg.States != nil {
		stored, err := c.cfg.States.OperatingMode(ctx)
		switch {
		case err != nil:
			c.setHealth("modes", "operating mode unreadable, normal meanwhile: "+err.Error())
		case stored != "":
			if known, perr := ParseOperatingMode(stored); perr == nil {
				m = known
			} else {
				c.setHealth("modes", "stored operating mode "+stored+" unknown, normal meanwhile")
			}
		}
	}
	c.update(func(s *Status) { s.OperatingMode = m })
}

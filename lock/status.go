package lock

import (
	"context"
	"sort"
	"time"

	"lockd.dev/lockd/gpio"
)

// State is the bolt's state as D-Bus reports it.
type State string

// States of the io.lockd.Lock1 State property.
const (
	StateLocked    State = "locked"
	StateUnlocked  State = "unlocked"
	StateLocking   State = "locking"
	StateUnlocking State = "unlocking"
	StateJammed    State = "jammed"
	StateUnknown   State = "unknown"
)

func stateOf(p gpio.Position) State {
	switch p {
	case gpio.PosLocked:
		return StateLocked
	case gpio.PosUnlocked:
		return StateUnlocked
	}
	return StateUnknown
}

// Status is a snapshot of the core, safe to read from any goroutine.
type Status struct {
	State          State
	DoorOpen       bool
	HasDoor        bool
	Provisioned    bool
	LockedOutUntil time.Time
	Mode           string            // keypad mode: idle, programming, setup, confirm, enrol
	LastKey        time.Time         // when a key was last pressed; zero: none since start
	Health         map[string]string // subsystem -> problem; empty when healthy
	// RelockAt is when the auto-relock (or a strike's pulse) locks the
	// bolt; zero when no countdown runs.
	RelockAt time.Time
	// WrongLeft is how many more wrong entries the keypad takes before
	// one starts a lockout, that one included (Codes.WrongEntriesLeft as
	// of the last entry or store change: it may lag a draining budget,
	// never showing more than are left). 0 during a lockout, or when the
	// store cannot say.
	WrongLeft int
	// OperatingMode is the lock's operating mode (mode.go).
	OperatingMode OperatingMode
	// Alarms are the listed alarms in the order of Alarms() (alarm.go);
	// the slice is replaced on a change, never changed in place.
	Alarms []Alarm
}

// Warnings returns the health problems in a stable order.
func (s Status) Warnings() []string {
	var w []string
	for k, v := range s.Health {
		w = append(w, k+": "+v)
	}
	sort.Strings(w)
	return w
}

// Status returns the current snapshot.
func (c *Core) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.status
	s.Health = make(map[string]string, len(c.status.Health))
	for k, v := range c.status.Health {
		s.Health[k] = v
	}
	return s
}

func (c *Core) update(f func(*Status)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.status)
}

func (c *Core) setHealth(part, problem string) {
	c.update(func(s *Status) {
		if s.Health == nil {
			s.Health = make(map[string]string)
		}
		s.Health[part] = problem
	})
}

func (c *Core) clearHealth(part string) {
	c.update(func(s *Status) { delete(s.Health, part) })
}

func modeName(m mode) string {
	switch m {
	case modeProgramming:
		return "programming"
	case modeSetup:
		return "setup"
	case modeConfirm:
		return "confirm"
	case modeEnrol:
		return "enrol"
	}
	return "idle"
}

// noteWrongLeft re-reads Status.WrongLeft after what may have changed it.
// A store that cannot say shows 0: its failure is reported where it
// matters (the entry, the health warning), not here again.
func (c *Core) noteWrongLeft(ctx context.Context) {
	n, err := c.cfg.Codes.WrongEntriesLeft(ctx, c.clk.Now())
	if err != nil {
		n = 0
	}
	c.update(func(s *Status) { s.WrongLeft = n })
}

// SetWarning records a health problem of a subsystem outside the core
// (D-Bus, the updater), or clears it when problem is empty. It shows in
// Status and so in STATUS= and on D-Bus.
func (c *Core) SetWarning(part, problem string) {
	if problem == "" {
		c.clearHealth(part)
		return
	}
	c.setHealth(part, problem)
}

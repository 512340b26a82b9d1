package lock

import (
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
	Mode           string            // keypad mode: idle, programming, setup, confirm
	LastKey        time.Time         // when a key was last pressed; zero: none since start
	Health         map[string]string // subsystem -> problem; empty when healthy
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
	}
	return "idle"
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

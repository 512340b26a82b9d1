// Package locktest has in-memory fakes of what the lock core consumes, for
// tests of the core that do not need the SQLite store.
package locktest

import (
	"context"
	"errors"
	"sync"
	"time"

	"lockd.dev/lockd/lock"
)

// Codes is an in-memory lock.Codes with the keypad lockout of DESIGN.md
// (Threshold failures, then Base doubling up to Max). Set the exported
// fields before use; Err, when set, fails every call (a broken store).
type Codes struct {
	mu        sync.Mutex
	Admin     string
	Setup     string
	Users     map[int]string // slot -> code
	Duress    map[int]string // slot -> duress code
	Threshold int
	Base, Max time.Duration
	Err       error
	// Block, when non-nil, makes Verify wait on it: a hung store.
	Block chan struct{}

	failures int
	until    time.Time
	// Verified lists every Verify call and its verdict, for assertions.
	Verified []Call
}

// Call is one Verify call.
type Call struct {
	Purpose lock.Purpose
	Code    string
	Verdict lock.Verdict
}

var _ lock.Codes = (*Codes)(nil)

// NewCodes returns a provisioned store with the given admin code and user
// codes in slots 1, 2, ...
func NewCodes(admin string, users ...string) *Codes {
	c := &Codes{Admin: admin, Users: map[int]string{}, Duress: map[int]string{},
		Threshold: 5, Base: 30 * time.Second, Max: time.Hour}
	for i, u := range users {
		c.Users[i+1] = u
	}
	return c
}

// Provisioned reports whether an admin code is set.
func (c *Codes) Provisioned(context.Context) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Admin != "", c.Err
}

// Verify checks an entry.
func (c *Codes) Verify(ctx context.Context, p lock.Purpose, code string, now time.Time) (lock.Verdict, error) {
	if c.Block != nil {
		select {
		case <-c.Block:
		case <-ctx.Done():
			return lock.Verdict{}, ctx.Err()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Err != nil {
		return lock.Verdict{}, c.Err
	}
	v := c.check(p, code, now)
	c.Verified = append(c.Verified, Call{p, code, v})
	return v, nil
}

func (c *Codes) check(p lock.Purpose, code string, now time.Time) lock.Verdict {
	if now.Before(c.until) {
		return lock.Verdict{Reason: lock.ReasonLockedOut, Until: c.until, Failures: c.failures}
	}
	ok, v := false, lock.Verdict{}
	switch {
	case p == lock.PurposeSetup:
		ok = c.Admin == "" && c.Setup != "" && code == c.Setup
		v.Kind = "setup"
	case c.Admin == "":
		v.Reason = lock.ReasonUnprovisioned
	case p == lock.PurposeAdmin:
		ok, v.Kind = code == c.Admin, "admin"
	default:
		// As in the real store, the admin code does not open: a user
		// could otherwise search for it with ordinary entries.
		for s, u := range c.Users {
			if u == code {
				ok, v.Kind, v.Slot, v.CodeID = true, "user", s, int64(s)
			}
		}
		for s, u := range c.Duress {
			if u == code {
				ok, v.Kind, v.Slot, v.CodeID, v.Duress = true, "duress", s, int64(s), true
			}
		}
	}
	if ok {
		c.failures = 0
		v.OK = true
		return v
	}
	if v.Reason == "" {
		v.Reason = lock.ReasonUnknown
	}
	c.failures++
	v.Failures = c.failures
	if c.failures >= c.Threshold {
		d := c.Base << (c.failures - c.Threshold)
		if d > c.Max || d <= 0 {
			d = c.Max
		}
		c.until = now.Add(d)
		v.Lockout, v.Until = true, c.until
	}
	v.Kind = ""
	return v
}

// SetAdmin sets the admin code and burns the setup code.
func (c *Codes) SetAdmin(_ context.Context, code string, _ time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Err != nil {
		return c.Err
	}
	if len(code) < 6 {
		return errors.New("locktest: admin code too short")
	}
	c.Admin, c.Setup = code, ""
	return nil
}

// AddUser adds a user code to the next free slot.
func (c *Codes) AddUser(_ context.Context, code string, _ time.Time) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Err != nil {
		return 0, c.Err
	}
	if len(code) < 4 {
		return 0, errors.New("locktest: code too short")
	}
	for _, u := range c.Users {
		if u == code {
			return 0, errors.New("locktest: duplicate code")
		}
	}
	for s := 1; ; s++ {
		if _, used := c.Users[s]; !used {
			c.Users[s] = code
			return s, nil
		}
	}
}

// RemoveSlot deletes a slot.
func (c *Codes) RemoveSlot(_ context.Context, slot int, _ time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.Users[slot]; !ok {
		return errors.New("locktest: no such slot")
	}
	delete(c.Users, slot)
	return nil
}

// LockedOutUntil returns the end of a running lockout.
func (c *Codes) LockedOutUntil(_ context.Context, now time.Time) (time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Before(c.until) {
		return c.until, c.Err
	}
	return time.Time{}, c.Err
}

// WrongEntriesLeft returns how many wrong entries are left before the
// Threshold-th in a row locks out (this fake has no budget).
func (c *Codes) WrongEntriesLeft(_ context.Context, now time.Time) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Before(c.until) {
		return 0, c.Err
	}
	return max(1, c.Threshold-c.failures), c.Err
}

// User returns the code in a slot.
func (c *Codes) User(slot int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Users[slot]
}

// AdminCode returns the admin code.
func (c *Codes) AdminCode() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Admin
}

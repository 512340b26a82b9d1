package locktest

import (
	"context"
	"sort"
	"sync"

	"lockd.dev/lockd/lock"
)

// States is an in-memory lock.StateStore. Err, when set, fails every
// call (a broken store) and changes nothing.
type States struct {
	mu     sync.Mutex
	Mode   string
	Stored map[string]lock.AlarmRecord
	Err    error
	Writes int // successful writes
}

var _ lock.StateStore = (*States)(nil)

// NewStates returns an empty store (mode never set, no alarms).
func NewStates() *States { return &States{Stored: map[string]lock.AlarmRecord{}} }

// OperatingMode returns the stored mode.
func (s *States) OperatingMode(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Mode, s.Err
}

// SetOperatingMode stores mode.
func (s *States) SetOperatingMode(_ context.Context, mode string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	s.Mode = mode
	s.Writes++
	return nil
}

// Alarms returns the stored alarms by name.
func (s *States) Alarms(context.Context) ([]lock.AlarmRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []lock.AlarmRecord
	for _, a := range s.Stored {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, s.Err
}

// SaveAlarm stores a.
func (s *States) SaveAlarm(_ context.Context, a lock.AlarmRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	s.Stored[a.Name] = a
	s.Writes++
	return nil
}

// DeleteAlarm removes the alarm called name.
func (s *States) DeleteAlarm(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	delete(s.Stored, name)
	s.Writes++
	return nil
}

// Names returns the names of the stored alarms, sorted.
func (s *States) Names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n []string
	for k := range s.Stored {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

package updater

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"lockd.dev/lockd/updater/ubootenv"
)

// stateFormat is the version of the state file; a newer one is refused.
const stateFormat = 1

// historyMax bounds the history kept in the state file.
const historyMax = 50

// SlotState is what the updater knows of one slot's contents.
type SlotState string

// Slot states.
const (
	// SlotEmpty: nothing verified is in the slot (never written, or a
	// write was started and not finished).
	SlotEmpty SlotState = "empty"
	// SlotInstalled: a verified image waits to be tried.
	SlotInstalled SlotState = "installed"
	// SlotTrial: armed or booted on trial.
	SlotTrial SlotState = "trial"
	// SlotGood: committed, or the slot that was committed before.
	SlotGood SlotState = "good"
	// SlotBad: a trial of it was abandoned.
	SlotBad SlotState = "bad"
)

// SlotInfo is one slot in the state file.
type SlotInfo struct {
	State           SlotState `json:"state"`
	Version         string    `json:"version,omitempty"`
	SecurityVersion uint64    `json:"security_version,omitempty"`
	Size            uint64    `json:"size,omitempty"`
	SHA256          string    `json:"sha256,omitempty"`
}

// Phase is where a pending update stands.
type Phase string

// Phases of a pending update.
const (
	// PhaseInstalled: written and verified, waiting for the owner's
	// policy and the lock's conditions.
	PhaseInstalled Phase = "installed"
	// PhaseArmed: the bootloader was (or is being) armed in the boot with
	// id ArmedBoot; the next boot is the trial.
	PhaseArmed Phase = "armed"
)

// Pending is an installed update that is not committed yet.
type Pending struct {
	Slot            Slot      `json:"slot"`
	Version         string    `json:"version"`
	FromVersion     string    `json:"from_version"`
	SecurityVersion uint64    `json:"security_version"`
	Phase           Phase     `json:"phase"`
	Approved        bool      `json:"approved,omitempty"`
	ArmedBoot       string    `json:"armed_boot,omitempty"`
	Installed       time.Time `json:"installed"`
}

// Record is one line of the update history.
type Record struct {
	Time    time.Time `json:"time"`
	Event   string    `json:"event"` // installed, replaced, armed, committed, rolled-back, rejected, refused, failed
	Slot    Slot      `json:"slot,omitempty"`
	Version string    `json:"version,omitempty"`
	Detail  string    `json:"detail,omitempty"`
}

// State is the updater's state file.
type State struct {
	Format             int               `json:"format"`
	MinSecurityVersion uint64            `json:"min_security_version"`
	Slots              map[Slot]SlotInfo `json:"slots"`
	Pending            *Pending          `json:"pending,omitempty"`
	LastError          string            `json:"last_error,omitempty"`
	History            []Record          `json:"history"`
}

func newState() *State {
	return &State{Format: stateFormat, Slots: map[Slot]SlotInfo{
		SlotA: {State: SlotEmpty}, SlotB: {State: SlotEmpty},
	}}
}

func (s *State) clone() *State {
	c := *s
	c.Slots = make(map[Slot]SlotInfo, 2)
	for k, v := range s.Slots {
		c.Slots[k] = v
	}
	if s.Pending != nil {
		p := *s.Pending
		c.Pending = &p
	}
	c.History = append([]Record(nil), s.History...)
	return &c
}

func (s *State) record(r Record) {
	s.History = append(s.History, r)
	if n := len(s.History) - historyMax; n > 0 {
		s.History = append([]Record(nil), s.History[n:]...)
	}
}

// stateFile reads and replaces the state file through a Storage.
type stateFile struct {
	path string
	st   ubootenv.Storage
}

// errNoState is returned by load for a missing file: a fresh unit.
var errNoState = errors.New("updater: no state file")

func (f stateFile) load() (*State, error) {
	d, err := f.st.Open(f.path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoState
	}
	if err != nil {
		return nil, fmt.Errorf("updater: state: %w", err)
	}
	defer d.Close()
	data, err := io.ReadAll(io.NewSectionReader(d, 0, 1<<20+1))
	if err != nil {
		return nil, fmt.Errorf("updater: state: %w", err)
	}
	if len(data) > 1<<20 {
		return nil, fmt.Errorf("updater: state %s: larger than 1 MiB", f.path)
	}
	return parseState(data)
}

// parseState decodes a state file strictly.
func parseState(data []byte) (*State, error) {
	s := &State{}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(s); err != nil {
		return nil, fmt.Errorf("updater: state: %w", err)
	}
	if dec.More() {
		return nil, errors.New("updater: state: data after the object")
	}
	if s.Format != stateFormat {
		return nil, fmt.Errorf("updater: state: format %d, this lockd reads %d", s.Format, stateFormat)
	}
	for k, v := range s.Slots {
		if !k.Valid() {
			return nil, fmt.Errorf("updater: state: unknown slot %q", k)
		}
		switch v.State {
		case SlotEmpty, SlotInstalled, SlotTrial, SlotGood, SlotBad:
		default:
			return nil, fmt.Errorf("updater: state: slot %s: unknown state %q", k, v.State)
		}
	}
	for _, sl := range []Slot{SlotA, SlotB} {
		if _, ok := s.Slots[sl]; !ok {
			return nil, fmt.Errorf("updater: state: slot %s missing", sl)
		}
	}
	if p := s.Pending; p != nil {
		if !p.Slot.Valid() {
			return nil, fmt.Errorf("updater: state: pending slot %q", p.Slot)
		}
		if p.Phase != PhaseInstalled && p.Phase != PhaseArmed {
			return nil, fmt.Errorf("updater: state: pending phase %q", p.Phase)
		}
	}
	return s, nil
}

// save replaces the state file (ubootenv.ReplaceFile: temporary file,
// fsync, rename, fsync of the directory), so a power cut at any point
// leaves the old or the new file.
func (f stateFile) save(s *State) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("updater: state: %w", err)
	}
	if err := ubootenv.ReplaceFile(f.st, f.path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("updater: state %s: %w", f.path, err)
	}
	return nil
}

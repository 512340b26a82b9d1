package hawkbit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"lockd.dev/lockd/hawkbit/ddi"
	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/ubootenv"
)

// stateFormat is the state file's version; another is refused.
const stateFormat = 1

// Phases of an action.
const (
	phaseConsent    = "consent"    // waits for the owner's approval
	phaseConsented  = "consented"  // approved; the server is to hear it
	phaseDenied     = "denied"     // rejected; the server is to hear it
	phaseNew        = "new"        // to install at the next poll
	phaseInstalling = "installing" // the updater writes it
	phaseInstalled  = "installed"  // pending, armed or on trial in the updater
	phaseFinal      = "final"      // its last feedback is owed to the server
)

// action is the server's action lockd handles, as it must survive a
// reboot: the trial of an update runs on the other slot.
type action struct {
	ID      string `json:"id"`
	Version string `json:"version"` // the chunk's version, as the server says
	Name    string `json:"name"`    // the chunk's name, for installedBase
	Phase   string `json:"phase"`
	// Consent: the owner approved it through the confirmation flow, which
	// approves its reboot too.
	Consent bool `json:"consent,omitempty"`
	// Marker is the updater's last history record when the install began:
	// what follows it is this install's record.
	Marker *updater.Record `json:"marker,omitempty"`
	// Bundle and Slot are the version and slot the updater installed.
	Bundle   string `json:"bundle,omitempty"`
	Slot     string `json:"slot,omitempty"`
	Attempts int    `json:"attempts,omitempty"`
	// Final is the closing feedback owed; RunningVersion what runs when it
	// is a failure, for installedBase.
	Final          *ddi.Status `json:"final,omitempty"`
	RunningVersion string      `json:"running_version,omitempty"`
}

// state is the client's state file.
type state struct {
	Format int     `json:"format"`
	Action *action `json:"action,omitempty"`
	// Cancel is a cancel's feedback owed to the server.
	Cancel   *ddi.Status `json:"cancel,omitempty"`
	CancelID string      `json:"cancel_id,omitempty"`
	// Done are the last actions finished here: never handled again.
	Done []string `json:"done,omitempty"`
	// ConfigSent is the configData last sent, to send changes only.
	ConfigSent map[string]string `json:"config_sent,omitempty"`
}

// done reports whether action id was finished here.
func (s *state) done(id string) bool {
	for _, d := range s.Done {
		if d == id {
			return true
		}
	}
	return false
}

// finish forgets the action, keeping its id among the done.
func (s *state) finish(id string) {
	s.Action = nil
	s.Done = append(s.Done, id)
	if len(s.Done) > 16 {
		s.Done = s.Done[len(s.Done)-16:]
	}
}

type stateFile struct{ path string }

func (f stateFile) load() (state, error) {
	b, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return state{Format: stateFormat}, nil
	}
	if err != nil {
		return state{}, fmt.Errorf("hawkbit: state: %w", err)
	}
	var s state
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if len(b) > 1<<20 || dec.Decode(&s) != nil || s.Format != stateFormat {
		return state{}, fmt.Errorf("hawkbit: state %s is not a state file of this lockd (remove it to start over)", f.path)
	}
	if a := s.Action; a != nil && !ddi.ValidID(a.ID) {
		return state{}, fmt.Errorf("hawkbit: state %s: action id %q", f.path, a.ID)
	}
	return s, nil
}

// save replaces the file atomically (ubootenv.ReplaceFile: a temporary
// file, fsync, rename, fsync of the directory): a power cut leaves the old
// state or the new.
func (f stateFile) save(s state) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("hawkbit: state: %w", err)
	}
	if err := ubootenv.ReplaceFile(ubootenv.OS{}, f.path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("hawkbit: state: %w", err)
	}
	return nil
}

// save writes the client's state; the caller holds c.mu. A failed save is
// logged: the state in memory goes on, and the next save tries again.
func (c *Client) save() {
	if err := c.file.save(c.st); err != nil {
		c.cfg.Log.Error("hawkbit: cannot save the state", "err", err)
	}
}

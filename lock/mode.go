package lock

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"lockd.dev/lockd/gpio"
)

// OperatingMode is what the lock lets through, with the names and, where
// a keypad lock can follow it, the meaning of Matter's Door Lock cluster
// (OperatingModeEnum). The owner sets it (D-Bus SetOperatingMode, admin
// only, or "9 N #" in programming mode); the store keeps it across
// restarts (StateStore).
type OperatingMode string

// The operating modes.
const (
	// ModeNormal: everything works as configured.
	ModeNormal OperatingMode = "normal"
	// ModeVacation: only codes marked for vacation open at the keypad
	// (the store refuses the others like a disabled code); remote
	// commands work.
	ModeVacation OperatingMode = "vacation"
	// ModePrivacy: entered only with the bolt locked. No code or card
	// opens from outside (refused unseen and uncounted, like during a
	// lockout), nor does Unlock over D-Bus; the admin code still enters
	// programming mode, where the owner can leave the mode. Unlocking by
	// hand from inside (a thumb turn) returns to normal, as in Matter.
	ModePrivacy OperatingMode = "privacy"
	// ModeNoRemote: Lock and Unlock over D-Bus are refused, for every
	// caller, root included (Matter's NoRemoteLockUnlock: a command from
	// off the door is remote); the keypad works. Changing the mode over
	// D-Bus still works for admins.
	ModeNoRemote OperatingMode = "no-remote"
	// ModePassage: entering it unlocks the bolt, which stays unlocked
	// (no auto-relock, no strike pulse) until the next lock (a command,
	// "#" at the keypad, or by hand), which returns to normal, or another
	// mode.
	ModePassage OperatingMode = "passage"
)

// operatingModes are the modes in the order of Matter's enum values,
// which "9 N #" in programming mode takes: 0 normal, 1 vacation, 2
// privacy, 3 no-remote, 4 passage.
var operatingModes = [...]OperatingMode{ModeNormal, ModeVacation, ModePrivacy, ModeNoRemote, ModePassage}

// OperatingModes returns every mode, in the order of Matter's enum.
func OperatingModes() []OperatingMode { return append([]OperatingMode(nil), operatingModes[:]...) }

// Event kinds and reasons of the operating mode.
const (
	// EventOperatingMode: the mode changed; Reason is the new mode,
	// Source who changed it (keypad, dbus; manual for a thumb turn that
	// ended privacy or passage; start when the bolt found at start ended
	// it).
	EventOperatingMode = "operating-mode"
	// EventCommandRefused: the mode refused a Lock or Unlock over D-Bus;
	// Reason is the mode.
	EventCommandRefused = "command-refused"
	// ReasonPrivacy: an entry refused in privacy mode, unseen.
	ReasonPrivacy = "privacy"
	// ReasonVacation: the store refused, in vacation mode, the code of a
	// user not marked for it (counted like a wrong code).
	ReasonVacation = "vacation"
)

// Errors of SetOperatingMode and of commands the mode refuses.
var (
	ErrBadMode = errors.New("lock: unknown operating mode")
	// ErrOperatingMode: the mode refuses this command (no-remote, or
	// Unlock in privacy). The error says which mode.
	ErrOperatingMode = errors.New("lock: refused in this operating mode")
	// ErrNotLocked: privacy mode is entered only with the bolt locked.
	ErrNotLocked = errors.New("lock: privacy mode needs the bolt locked; lock it first")
	// ErrNoStateStore: the mode cannot be kept, so it is not changed.
	ErrNoStateStore = errors.New("lock: the operating mode cannot be kept (the code store is unavailable)")
)

// ParseOperatingMode returns the mode called s; an error wrapping
// ErrBadMode lists the modes.
func ParseOperatingMode(s string) (OperatingMode, error) {
	for _, m := range operatingModes {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("%w %.40q: want one of %s", ErrBadMode, s, modeList())
}

func modeList() string {
	var names []string
	for _, m := range operatingModes {
		names = append(names, string(m))
	}
	return strings.Join(names, ", ")
}

// SetOperatingMode changes the mode and returns once it is durable. It
// changes nothing when it fails (ErrBadMode, ErrNotLocked,
// ErrNoStateStore, a store error). Entering passage unlocks the bolt.
// Whether the caller may change the mode is the caller's decision.
func (c *Core) SetOperatingMode(ctx context.Context, m OperatingMode, source string, uid int) error {
	if _, err := ParseOperatingMode(string(m)); err != nil {
		return err
	}
	return c.call(ctx, func() error { return c.setMode(m, source, uid) })
}

// setMode runs in the loop.
func (c *Core) setMode(m OperatingMode, source string, uid int) error {
	s := c.Status()
	if m == s.OperatingMode {
		return nil
	}
	if m == ModePrivacy && (s.State != StateLocked || c.moving) {
		return ErrNotLocked
	}
	if c.cfg.States == nil {
		return ErrNoStateStore
	}
	if err := c.cfg.States.SetOperatingMode(c.runCtx, string(m)); err != nil {
		return fmt.Errorf("lock: keep the operating mode: %w", err)
	}
	c.applyMode(m, source, uid)
	switch {
	case m == ModePassage:
		c.pendingLock = false
		c.request(gpio.PosUnlocked, source, uid)
	case s.OperatingMode == ModePassage && c.Status().State == StateUnlocked:
		c.armRelock() // normal service resumes, auto-relock included
	}
	return nil
}

// applyMode takes m as the mode, says so and shows it.
func (c *Core) applyMode(m OperatingMode, source string, uid int) {
	c.update(func(s *Status) { s.OperatingMode = m })
	c.emit(Event{Kind: EventOperatingMode, Source: source, Reason: string(m), UID: uid})
	c.idleBackground()
}

// autoMode changes the mode on the lock's own account (privacy or
// passage ending). A store that cannot keep it does not hold it back: the
// rule that ended the mode ends it again after a restart (modeFollowsBolt
// at start), and the health warning says why.
func (c *Core) autoMode(m OperatingMode, source string, uid int) {
	if c.cfg.States != nil {
		if err := c.cfg.States.SetOperatingMode(c.runCtx, string(m)); err != nil {
			c.log.Error("lock: keep the operating mode", "mode", m, "err", err)
			c.setHealth("modes", "operating mode "+string(m)+" not saved: "+err.Error())
		}
	}
	c.applyMode(m, source, uid)
}

// modeFollowsBolt ends privacy when the bolt was unlocked by hand, and
// passage when it was locked, however that happened.
func (c *Core) modeFollowsBolt(st State, source string) {
	switch m := c.Status().OperatingMode; {
	case m == ModePrivacy && st == StateUnlocked, m == ModePassage && st == StateLocked:
		c.autoMode(ModeNormal, source, -1)
	}
}

// modeGate is asked before a lock or unlock command (D-Bus, the panel,
// or "#" at the keypad) moves anything: it refuses what the mode refuses,
// and a lock ends passage.
func (c *Core) modeGate(to gpio.Position, source string, uid int) error {
	m := c.Status().OperatingMode
	if source == SourceDBus && (m == ModeNoRemote || (m == ModePrivacy && to == gpio.PosUnlocked)) {
		c.emit(Event{Kind: EventCommandRefused, Source: source, Reason: string(m), UID: uid})
		if m == ModeNoRemote {
			return fmt.Errorf("%w no-remote: Lock and Unlock over D-Bus are refused; the keypad works", ErrOperatingMode)
		}
		return fmt.Errorf("%w privacy: nothing unlocks from outside until the mode changes", ErrOperatingMode)
	}
	if to == gpio.PosLocked && m == ModePassage {
		c.autoMode(ModeNormal, source, uid)
	}
	return nil
}

// privacyRefuses refuses an entry to open in privacy mode without a look
// at it: nothing is checked, counted or spent.
func (c *Core) privacyRefuses(source string) bool {
	if c.Status().OperatingMode != ModePrivacy {
		return false
	}
	c.emit(Event{Kind: EventDenied, Source: source, Reason: ReasonPrivacy})
	c.show(gpio.PatternDenied)
	return true
}

// keypadMode is "9 N #" in programming mode.
func (c *Core) keypadMode(m OperatingMode) {
	if err := c.setMode(m, SourceKeypad, -1); err != nil {
		reason := "mode-not-kept"
		if errors.Is(err, ErrNotLocked) {
			reason = "not-locked"
		}
		c.emit(Event{Kind: EventRefused, Source: SourceKeypad, Reason: reason})
		c.show(gpio.PatternDenied)
		return
	}
	c.show(gpio.PatternProgrammingStep)
}

// modeBackground is the LED pattern of the mode, when nothing more
// pressing shows.
func modeBackground(m OperatingMode) gpio.Pattern {
	switch m {
	case ModeVacation:
		return gpio.PatternVacation
	case ModePrivacy:
		return gpio.PatternPrivacy
	case ModePassage:
		return gpio.PatternPassage
	case ModeNoRemote:
		return gpio.PatternNoRemote
	}
	return gpio.PatternIdle
}

// loopCall runs fn in the loop and hands its error back.
type loopCall struct {
	fn    func() error
	reply chan error
}

// call runs fn in the loop, as Lock and Unlock run their requests.
func (c *Core) call(ctx context.Context, fn func() error) error {
	k := loopCall{fn: fn, reply: make(chan error, 1)}
	select {
	case c.calls <- k:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-k.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// statusEvents is how many recent events `lockctl status` shows.
const statusEvents = 5

// setupHint is the loud line status shows on an unprovisioned unit.
const setupHint = "SETUP INCOMPLETE — run 'lockctl setup' or type * SETUP # on the keypad"

// lockStatus is the io.lockd.Lock1 properties plus recent events.
type lockStatus struct {
	State          string     `json:"state"`
	DoorOpen       bool       `json:"door_open"`
	HasDoor        bool       `json:"has_door"`
	Provisioned    bool       `json:"provisioned"`
	LockedOutUntil *time.Time `json:"locked_out_until"` // nil: no lockout
	LockoutSeconds int64      `json:"lockout_remaining_seconds"`
	Mode           string     `json:"mode"`
	Health         []string   `json:"health"` // empty when healthy
	// OperatingMode and Alarms: "" and nil from a lockd without them.
	OperatingMode string     `json:"operating_mode,omitempty"`
	Alarms        []string   `json:"alarms"` // null: this lockd has none
	Events        []logEntry `json:"events"`
	EventsError   string     `json:"events_error,omitempty"` // why Events is empty, if it could not be read
}

// newLockStatus decodes Lock1's properties at now.
func newLockStatus(p map[string]dbus.Variant, now time.Time) lockStatus {
	s := lockStatus{State: vString(p, "State"), DoorOpen: vBool(p, "DoorOpen"), HasDoor: true,
		Provisioned: vBool(p, "Provisioned"), Mode: vString(p, "Mode"), Health: vStrings(p, "Health")}
	if _, ok := p["HasDoor"]; ok {
		s.HasDoor = vBool(p, "HasDoor")
	}
	if u := vMicros(p, "LockedOutUntil"); u.After(now) {
		s.LockedOutUntil = &u
		s.LockoutSeconds = int64((u.Sub(now) + time.Second - 1) / time.Second)
	}
	if s.Health == nil {
		s.Health = []string{}
	}
	s.OperatingMode, s.Alarms = modeStatus(p) // modestatus.go
	return s
}

// cmdStatus is `lockctl status`.
func (a *app) cmdStatus(ctx context.Context, args []string) error {
	if _, err := a.parse("status", a.flagSet("status"), args, 0, 0); err != nil {
		return err
	}
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	p, err := c.props(ctx, ifaceLock)
	if err != nil {
		return err
	}
	s := newLockStatus(p, time.Now())
	// Status still helps when the log cannot be read: say why instead.
	if s.Events, err = c.tailLog(ctx, statusEvents); err != nil {
		s.EventsError = err.Error()
	}
	if s.Events == nil {
		s.Events = []logEntry{}
	}
	if a.json {
		return printJSON(a.stdout, s)
	}
	writeStatus(a.stdout, s, a.painter())
	return nil
}

// boltProblems says what a jammed or lost bolt needs from a person.
func boltProblems(state string) []string {
	switch state {
	case "jammed":
		return []string{"bolt: jammed: lockd stopped the motor and left the bolt where it is; " +
			"clear what blocks it, then run 'lockctl lock' or 'lockctl unlock'"}
	case "unknown":
		return []string{"bolt: position unknown (neither limit switch is closed); " +
			"check the switches and the bolt, then run 'lockctl lock'"}
	}
	return nil
}

// writeStatus prints s like hostnamectl, in colour through p.
func writeStatus(w io.Writer, s lockStatus, p painter) {
	door := "closed"
	switch {
	case !s.HasDoor:
		door = "no door sensor"
	case s.DoorOpen:
		door = "open"
	}
	prov := "yes"
	if !s.Provisioned {
		prov = "no\n" + setupHint
	}
	lockout := "none"
	if s.LockedOutUntil != nil {
		lockout = fmt.Sprintf("%s (until %s)", humanDuration(time.Duration(s.LockoutSeconds)*time.Second),
			s.LockedOutUntil.Local().Format("15:04:05"))
	}
	// The bolt's own trouble is health too, though lockd reports it as
	// State: a jam needs a person, and says what to do.
	problems := append(boltProblems(s.State), s.Health...)
	health := "ok"
	if len(problems) > 0 {
		health = strings.Join(problems, "\n")
	}
	var ev []string
	for _, e := range s.Events {
		ev = append(ev, e.String())
	}
	switch {
	case s.EventsError != "":
		ev = []string{"(cannot read the log: " + s.EventsError + ")"}
	case len(ev) == 0:
		ev = []string{"none"}
	}
	mode := s.Mode
	if mode == "" {
		mode = "-"
	}
	rows := [][2]string{
		{"State", s.State},
		{"Door", door},
		{"Provisioned", prov},
		{"Lockout", lockout},
		{"Keypad mode", mode},
	}
	rows = append(rows, modeRows(s)...) // modestatus.go
	rows = append(rows, [][2]string{
		{"Health", health},
		{"Last events", strings.Join(ev, "\n")},
	}...)
	keyValues(w, rows, p, s.colour)
}

// colour is how writeStatus colours line i of a row: what needs a person
// in red, what is open or running in yellow, a good lock in green.
func (s lockStatus) colour(key string, i int) colour {
	switch key {
	case "State":
		return stateColour(s.State)
	case "Door":
		if s.DoorOpen {
			return yellow
		}
	case "Provisioned":
		if !s.Provisioned {
			return red
		}
	case "Lockout":
		if s.LockedOutUntil != nil {
			return red
		}
	case "Health":
		if len(s.Health) > 0 || boltProblems(s.State) != nil {
			return red
		}
		return green
	case "Operating mode", "Alarms":
		return s.modeColour(key)
	case "Last events":
		if s.EventsError == "" && i < len(s.Events) {
			return kindColour(s.Events[i].Kind)
		}
	}
	return noColour
}

package hass

import (
	"encoding/json"
	"strings"
	"time"

	"lockd.dev/lockd/mqtt/lockbus"
)

// Lock entity states (Home Assistant's defaults for state_locked, ...).
const (
	StateLocked    = "LOCKED"
	StateUnlocked  = "UNLOCKED"
	StateLocking   = "LOCKING"
	StateUnlocking = "UNLOCKING"
	StateJammed    = "JAMMED"
	StateOpen      = "OPEN"
	// StateUnknown is payload_reset: the state becomes unknown.
	StateUnknown = "None"
)

// Binary sensor payloads (Home Assistant's defaults).
const (
	On  = "ON"
	Off = "OFF"
)

// LockState maps lockd's bolt state to the lock entity's: an unlocked
// bolt with the door open is OPEN; a state lockd cannot vouch for
// (unknown, or one this lockd-mqtt does not know) resets to unknown.
func LockState(s *lockbus.Snapshot) string {
	switch s.State {
	case "locked":
		return StateLocked
	case "unlocked":
		if s.HasDoor && s.DoorOpen {
			return StateOpen
		}
		return StateUnlocked
	case "locking":
		return StateLocking
	case "unlocking":
		return StateUnlocking
	case "jammed":
		return StateJammed
	}
	return StateUnknown
}

// updateBusy are Update1 operations during which an install runs.
var updateBusy = map[string]bool{"verifying": true, "writing": true, "syncing": true, "checking": true}

// States returns the retained state of every entity the snapshot feeds;
// now decides whether a lockout still runs.
func States(t Topics, s *lockbus.Snapshot, now time.Time) []Message {
	out := []Message{
		retained(t.Lock(), LockState(s)),
		retained(t.Lockout(), onOff(!s.LockedOutUntil.IsZero() && s.LockedOutUntil.After(now))),
		retainedJSON(Attributes(t.Lockout()), map[string]any{"until": timeOrNil(s.LockedOutUntil)}),
		retained(t.Health(), onOff(len(s.Health) > 0)),
		retainedJSON(Attributes(t.Health()), map[string]any{"warnings": nonNil(s.Health)}),
	}
	if s.HasDoor {
		out = append(out, retained(t.Door(), onOff(s.DoorOpen)))
	}
	if s.HasAlarms {
		out = append(out, retained(t.Alarm(), onOff(len(s.Alarms) > 0)),
			retainedJSON(Attributes(t.Alarm()), map[string]any{"alarms": nonNil(s.Alarms)}))
	}
	if s.HasOperatingMode {
		out = append(out, retained(t.OperatingMode(), s.OperatingMode))
	}
	if u := s.Update; u != nil {
		latest := u.Pending
		if latest == "" {
			latest = u.Installed
		}
		st := map[string]any{
			"title":             "lockd root file system",
			"installed_version": nilIfEmpty(u.Installed),
			"latest_version":    nilIfEmpty(latest),
			"in_progress":       updateBusy[u.Operation],
		}
		if updateBusy[u.Operation] {
			st["update_percentage"] = max(0, min(100, u.Progress))
		}
		if u.LastError != "" {
			st["release_summary"] = truncate("last update failed: "+u.LastError, 255)
		}
		out = append(out, retainedJSON(t.Update(), st))
	}
	return out
}

// EventMessages returns the last-event sensor's state (the kind) and its
// attributes: who (label, code, caller) and how (source).
func EventMessages(t Topics, e *lockbus.Event) []Message {
	attrs := map[string]any{"kind": e.Kind, "source": e.Source, "time": timeOrNil(e.Time)}
	if e.Reason != "" {
		attrs["reason"] = e.Reason
	}
	if e.Label != "" {
		attrs["label"] = e.Label
	}
	if e.CodeID != 0 {
		attrs["code_id"] = e.CodeID
	}
	if e.Slot != 0 {
		attrs["slot"] = e.Slot
	}
	if e.UID >= 0 {
		attrs["uid"] = e.UID
	}
	return []Message{retainedJSON(Attributes(t.Event()), attrs), retained(t.Event(), truncate(e.Kind, 255))}
}

func retained(topic, payload string) Message {
	return Message{Topic: topic, Payload: []byte(payload), Retain: true}
}

func retainedJSON(topic string, v map[string]any) Message {
	b, _ := json.Marshal(v) // strings, numbers, bools, lists: cannot fail
	return Message{Topic: topic, Payload: b, Retain: true}
}

func onOff(b bool) string {
	if b {
		return On
	}
	return Off
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// truncate keeps s within n bytes (Home Assistant's state limit is 255
// characters) without cutting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

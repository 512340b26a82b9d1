package bridge

import (
	"errors"
	"fmt"
	"regexp"

	"lockd.dev/lockd/mqtt/hass"
)

// Action is what a command asks.
type Action int

const (
	// ActionLock locks.
	ActionLock Action = iota + 1
	// ActionUnlock unlocks.
	ActionUnlock
)

func (a Action) String() string {
	switch a {
	case ActionLock:
		return hass.PayloadLock
	case ActionUnlock:
		return hass.PayloadUnlock
	}
	return "?"
}

// Command is one parsed command.
type Command struct {
	Action Action
	// Code is the PIN Home Assistant sent with it; "" when none (Home
	// Assistant renders a missing code as None).
	Code string
}

// MaxCommand is the largest payload the parser reads: the JSON form with
// a 12-digit PIN is under 50 bytes.
const MaxCommand = 256

// Refusals of ParseCommand. None of them quotes the payload: it may hold
// a PIN.
var (
	ErrTooLarge = errors.New("bridge: command too large")
	ErrUnknown  = errors.New("bridge: unknown command")
)

// commandJSON is the one JSON form: exactly what the discovery's
// command_template renders, {"action":"UNLOCK","code":"1234"}, the code
// digits or Home Assistant's None for no code. No spaces, no other key,
// no other order: a payload is a command only if it is byte for byte
// what Home Assistant sends.
var commandJSON = regexp.MustCompile(`^\{"action":"(LOCK|UNLOCK)","code":"([0-9]{1,12}|None)"\}$`)

// ParseCommand reads a command payload. Exactly two forms are commands:
// the bare payloads LOCK and UNLOCK (Home Assistant's payload_lock and
// payload_unlock, no whitespace, no other case), and commandJSON.
// Everything else is refused.
func ParseCommand(p []byte) (Command, error) {
	if len(p) > MaxCommand {
		return Command{}, fmt.Errorf("%w: %d bytes, over %d", ErrTooLarge, len(p), MaxCommand)
	}
	switch string(p) {
	case hass.PayloadLock:
		return Command{Action: ActionLock}, nil
	case hass.PayloadUnlock:
		return Command{Action: ActionUnlock}, nil
	}
	m := commandJSON.FindSubmatch(p)
	if m == nil {
		return Command{}, fmt.Errorf("%w (%d bytes): want %s, %s or %s", ErrUnknown, len(p),
			hass.PayloadLock, hass.PayloadUnlock, `{"action":"LOCK|UNLOCK","code":"DIGITS|None"}`)
	}
	cmd := Command{Action: ActionLock}
	if string(m[1]) == hass.PayloadUnlock {
		cmd.Action = ActionUnlock
	}
	if code := string(m[2]); code != "None" {
		cmd.Code = code
	}
	return cmd, nil
}

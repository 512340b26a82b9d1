package gpio

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	pgpio "periph.io/x/conn/v3/gpio"
)

// AlarmInputConfig wires an input that raises an alarm: a tamper switch
// (closed while the case is shut) or the power-good line of a supply
// (active while mains is present).
//
// The input is normal while it is active and in alarm while it is not,
// and it is pulled toward its inactive level: a cut wire, a switch pulled
// off or a dead supply all read as the alarm, never as all-clear.
type AlarmInputConfig struct {
	Name      string // for errors: "tamper", "power"
	Pin       pgpio.PinIn
	ActiveLow bool          // the switch or line pulls the pin Low when normal
	Debounce  time.Duration // zero means DefaultDebounce
}

// AlarmInput reads a debounced alarm input. It is the door sensor's
// reading (a level that must hold for the debounce time) under another
// name: a tamper switch bounces like a reed.
type AlarmInput struct {
	name string
	d    *Door
}

// NewAlarmInput checks cfg and configures the input for edge detection.
func NewAlarmInput(cfg AlarmInputConfig) (*AlarmInput, error) {
	if cfg.Name == "" {
		cfg.Name = "alarm input"
	}
	if cfg.Pin == nil {
		return nil, fmt.Errorf("gpio: %s: pin is required", cfg.Name)
	}
	d, err := NewDoor(DoorConfig{Pin: cfg.Pin, ActiveLow: cfg.ActiveLow, Debounce: cfg.Debounce})
	if err != nil {
		return nil, renamed(cfg.Name, err)
	}
	return &AlarmInput{name: cfg.Name, d: d}, nil
}

// Alarm reports whether the input is in alarm: the debounced state while
// Run is running, otherwise the input read now.
func (a *AlarmInput) Alarm() bool { return a.d.Open() }

// Run watches the input until ctx is done, then returns nil. It sends the
// state (true: in alarm) when it starts, then on every debounced change.
// Only one Run may run at a time.
func (a *AlarmInput) Run(ctx context.Context, changes chan<- bool) error {
	if err := a.d.Run(ctx, changes); err != nil {
		return renamed(a.name, err)
	}
	return nil
}

// renamed names the input in an error of the door reading it uses.
func renamed(name string, err error) error {
	if inner := errors.Unwrap(err); inner != nil {
		return fmt.Errorf("gpio: %s: %w", name, inner)
	}
	return fmt.Errorf("gpio: %s: %s", name, strings.TrimPrefix(err.Error(), "gpio: door: "))
}

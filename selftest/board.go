package selftest

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	pgpio "periph.io/x/conn/v3/gpio"

	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/internal/board"
	"lockd.dev/lockd/internal/config"
)

// Kind is what hangs off a line, which decides how the walk exercises it.
type Kind int

// Kinds of line.
const (
	Row       Kind = iota // matrix keypad row: output, inactive High
	Column                // matrix keypad column: input, pulled up
	Data                  // Wiegand D0 or D1: input, pulled up, idle High
	MotorDir              // H-bridge input: output, only ever driven by the motor driver
	Limit                 // limit switch: input
	Door                  // door reed switch: input
	Indicator             // LED or buzzer: output
	Strike                // strike relay: output
)

// Line is one configured pin.
type Line struct {
	Key       string // configuration key, e.g. "indicators.led_green"
	Name      string // kernel name, e.g. "GPIO12"
	What      string // what it is, for a person: "green LED"
	Kind      Kind
	ActiveLow bool // for outputs and switches: active at Low
	Pin       pgpio.PinIO
}

// Keypad is a keypad driver as the walk uses it: gpio.Matrix or
// gpio.Wiegand. Run sends each key as it is pressed (and, for a matrix,
// released) until ctx is done.
type Keypad interface {
	Run(ctx context.Context, events chan<- gpio.KeyEvent) error
}

// Motor is the bolt motor as the walk uses it: gpio.Motor. Lock and
// Unlock drive toward one end until its switch closes or ctx is done, and
// never energise both directions; Switches reads the limit switches.
type Motor interface {
	Lock(ctx context.Context) error
	Unlock(ctx context.Context) error
	Switches() (locked, unlocked bool)
	Stop() error
}

// DoorSensor reads the door sensor as the walk uses it: gpio.Door, not
// running, so Open reads the line as it is now.
type DoorSensor interface {
	Open() bool
}

// Board is everything the walk exercises.
type Board struct {
	Lines  []Line
	Layout string     // matrix layout, rows separated by '/'; "" with Wiegand
	Keypad Keypad     // nil: no keypad steps
	Motor  Motor      // nil with a strike
	Door   DoorSensor // nil without a door sensor
}

// FromConfig claims the pins c names through lookup (gpioreg.ByName on a
// controller, sim.Board.ByName in a simulation) and builds the drivers
// with internal/board, as lockd does. Its errors name the pin and the key.
func FromConfig(c config.Config, lookup board.Lookup, log *slog.Logger) (Board, error) {
	hw, err := board.Build(c, lookup, log)
	if err != nil {
		return Board{}, fmt.Errorf("selftest: %w", err)
	}
	var b Board
	add := func(key, name, what string, k Kind, low bool) {
		if name != "" {
			b.Lines = append(b.Lines, Line{Key: key, Name: name, What: what, Kind: k, ActiveLow: low, Pin: lookup(name)})
		}
	}
	if c.Keypad.Type == "wiegand" {
		add("keypad.d0", c.Keypad.D0, "Wiegand D0", Data, true)
		add("keypad.d1", c.Keypad.D1, "Wiegand D1", Data, true)
		b.Keypad = hw.Wiegand
	} else {
		for i, n := range c.Keypad.Rows {
			add(fmt.Sprintf("keypad.rows[%d]", i), n, fmt.Sprintf("keypad row %d", i+1), Row, true)
		}
		for i, n := range c.Keypad.Cols {
			add(fmt.Sprintf("keypad.cols[%d]", i), n, fmt.Sprintf("keypad column %d", i+1), Column, true)
		}
		b.Layout = strings.Join(c.Keypad.Layout, "/")
		if b.Layout == "" {
			b.Layout = gpio.Layout3x4
			if len(c.Keypad.Cols) == 4 {
				b.Layout = gpio.Layout4x4
			}
		}
		b.Keypad = hw.Matrix
	}
	if c.Bolt.Type == "strike" {
		add("bolt.strike_pin", c.Bolt.StrikePin, "strike relay", Strike, c.Bolt.StrikeLowOn)
	} else {
		add("bolt.lock_pin", c.Bolt.LockPin, "H-bridge input toward locked", MotorDir, c.Bolt.MotorLowOn)
		add("bolt.unlock_pin", c.Bolt.UnlockPin, "H-bridge input toward unlocked", MotorDir, c.Bolt.MotorLowOn)
		add("bolt.limit_locked", c.Bolt.LimitLocked, "limit switch at the locked end", Limit, c.Bolt.LimitLowOn)
		add("bolt.limit_unlocked", c.Bolt.LimitUnlocked, "limit switch at the unlocked end", Limit, c.Bolt.LimitLowOn)
		b.Motor = hw.Motor
	}
	add("door.pin", c.Door.Pin, "door sensor", Door, c.Door.ClosedLow)
	if hw.Door != nil {
		b.Door = hw.Door
	}
	add("indicators.led_green", c.Indicators.Green, "green LED", Indicator, false)
	add("indicators.led_red", c.Indicators.Red, "red LED", Indicator, false)
	add("indicators.buzzer", c.Indicators.Buzzer, "buzzer", Indicator, false)
	return b, nil
}

// line returns the line with configuration key key, or nil.
func (b *Board) line(key string) *Line {
	for i := range b.Lines {
		if b.Lines[i].Key == key {
			return &b.Lines[i]
		}
	}
	return nil
}

// inputs returns the input lines.
func (b *Board) inputs() []*Line {
	var in []*Line
	for i := range b.Lines {
		switch b.Lines[i].Kind {
		case Column, Data, Limit, Door:
			in = append(in, &b.Lines[i])
		}
	}
	return in
}

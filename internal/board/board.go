// Package board builds the lock's drivers from the configuration and a pin
// lookup: gpioreg.ByName on real hardware, sim.Board.ByName in the
// simulation. Both go through the same code, so the simulation exercises
// the configuration path a real unit takes.
package board

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	pgpio "periph.io/x/conn/v3/gpio"

	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/internal/config"
)

// Lookup finds a pin by its kernel name ("GPIO17"); nil if there is none.
type Lookup func(name string) pgpio.PinIO

// Hardware is the set of drivers the lock core runs on.
type Hardware struct {
	Matrix     *gpio.Matrix     // nil with a Wiegand keypad
	Wiegand    *gpio.Wiegand    // nil with a matrix keypad
	Motor      *gpio.Motor      // nil with a strike
	Strike     *gpio.Strike     // nil with a motor
	Door       *gpio.Door       // nil without a door sensor
	Tamper     *gpio.AlarmInput // nil without a tamper switch
	Power      *gpio.AlarmInput // nil without a power-good line
	Reader     *gpio.Wiegand    // a card reader beside the matrix keypad; nil without one
	Indicators *gpio.Indicators
}

// Build claims every configured pin and builds the drivers. An error names
// the missing pin and its configuration key.
func Build(c config.Config, lookup Lookup, log *slog.Logger) (*Hardware, error) {
	var h Hardware
	var missing []string
	used := map[string]string{} // pin name -> config key
	pin := func(key, name string) pgpio.PinIO {
		if name == "" {
			missing = append(missing, fmt.Sprintf("%s is not set", key))
			return nil
		}
		if other, dup := used[name]; dup {
			missing = append(missing, fmt.Sprintf("pin %s is used by both %s and %s", name, other, key))
			return nil
		}
		used[name] = key
		p := lookup(name)
		if p == nil {
			missing = append(missing, fmt.Sprintf("pin %s (%s) not found", name, key))
		}
		return p
	}
	optional := func(key, name string) pgpio.PinIO {
		if name == "" {
			return nil
		}
		return pin(key, name)
	}

	var rows []pgpio.PinOut
	var cols []pgpio.PinIn
	var d0, d1 pgpio.PinIO
	if c.Keypad.Type == "wiegand" {
		d0, d1 = pin("keypad.d0", c.Keypad.D0), pin("keypad.d1", c.Keypad.D1)
	} else {
		if len(c.Keypad.Rows) == 0 || len(c.Keypad.Cols) == 0 {
			missing = append(missing, "keypad.rows and keypad.cols must list the matrix pins")
		}
		for i, n := range c.Keypad.Rows {
			rows = append(rows, pin(fmt.Sprintf("keypad.rows[%d]", i), n))
		}
		for i, n := range c.Keypad.Cols {
			cols = append(cols, pin(fmt.Sprintf("keypad.cols[%d]", i), n))
		}
	}
	var lockP, unlockP, limL, limU, strike pgpio.PinIO
	if c.Bolt.Type == "strike" {
		strike = pin("bolt.strike_pin", c.Bolt.StrikePin)
	} else {
		lockP, unlockP = pin("bolt.lock_pin", c.Bolt.LockPin), pin("bolt.unlock_pin", c.Bolt.UnlockPin)
		limL, limU = pin("bolt.limit_locked", c.Bolt.LimitLocked), pin("bolt.limit_unlocked", c.Bolt.LimitUnlocked)
	}
	var rd0, rd1 pgpio.PinIO
	if c.Keypad.Type != "wiegand" && c.Keypad.ReaderD0 != "" {
		rd0, rd1 = pin("keypad.reader_d0", c.Keypad.ReaderD0), pin("keypad.reader_d1", c.Keypad.ReaderD1)
	}
	door := optional("door.pin", c.Door.Pin)
	tamper := optional("board.tamper_pin", c.Board.TamperPin)
	power := optional("board.power_pin", c.Board.PowerPin)
	green := optional("indicators.led_green", c.Indicators.Green)
	red := optional("indicators.led_red", c.Indicators.Red)
	buzzer := optional("indicators.buzzer", c.Indicators.Buzzer)
	if len(missing) > 0 {
		return nil, fmt.Errorf("board: %s", strings.Join(missing, "; "))
	}

	var err error
	if c.Keypad.Type == "wiegand" {
		h.Wiegand, err = gpio.NewWiegand(d0, d1, gpio.WiegandOptions{Logger: log})
	} else {
		h.Matrix, err = gpio.NewMatrix(rows, cols, gpio.MatrixOptions{
			Layout:   strings.Join(c.Keypad.Layout, "/"),
			Debounce: time.Duration(c.Keypad.DebounceMS) * time.Millisecond,
			Logger:   log,
		})
	}
	if err == nil && rd0 != nil {
		h.Reader, err = gpio.NewWiegand(rd0, rd1, gpio.WiegandOptions{Logger: log})
	}
	if err != nil {
		return nil, fmt.Errorf("board: keypad: %w", err)
	}
	if c.Bolt.Type == "strike" {
		h.Strike, err = gpio.NewStrike(gpio.StrikeConfig{Pin: strike, ActiveLow: c.Bolt.StrikeLowOn,
			Pulse: time.Duration(c.Bolt.Pulse) * time.Second})
	} else {
		h.Motor, err = gpio.NewMotor(gpio.MotorConfig{
			LockDir: lockP, UnlockDir: unlockP,
			LockDirActiveLow: c.Bolt.MotorLowOn, UnlockDirActiveLow: c.Bolt.MotorLowOn,
			LockedSwitch: limL, UnlockedSwitch: limU,
			LockedSwitchActiveLow: c.Bolt.LimitLowOn, UnlockedSwitchActiveLow: c.Bolt.LimitLowOn,
			Travel: time.Duration(c.Bolt.TravelMS) * time.Millisecond,
			Logger: log,
		})
	}
	if err != nil {
		return nil, fmt.Errorf("board: bolt: %w", err)
	}
	if door != nil {
		h.Door, err = gpio.NewDoor(gpio.DoorConfig{Pin: door, ActiveLow: c.Door.ClosedLow,
			Debounce: time.Duration(c.Door.DebounceMS) * time.Millisecond})
		if err != nil {
			return nil, fmt.Errorf("board: door: %w", err)
		}
	}
	if err := h.buildAlarmInputs(c, tamper, power); err != nil {
		return nil, err
	}
	h.Indicators, err = gpio.NewIndicators(gpio.IndicatorConfig{Green: outOrNil(green), Red: outOrNil(red),
		Buzzer: outOrNil(buzzer), Logger: log})
	if err != nil {
		return nil, fmt.Errorf("board: indicators: %w", err)
	}
	return &h, nil
}

// outOrNil keeps a missing optional pin a true nil interface.
func outOrNil(p pgpio.PinIO) pgpio.PinOut {
	if p == nil {
		return nil
	}
	return p
}

// SimConfig returns c with the pins of sim.NewBoard filled in, for a
// simulated board with the given keypad rows and columns.
func SimConfig(c config.Config, rows, cols int) config.Config {
	c.Keypad.Rows, c.Keypad.Cols = nil, nil
	for i := 0; i < rows; i++ {
		c.Keypad.Rows = append(c.Keypad.Rows, fmt.Sprintf("KP_ROW%d", i))
	}
	for i := 0; i < cols; i++ {
		c.Keypad.Cols = append(c.Keypad.Cols, fmt.Sprintf("KP_COL%d", i))
	}
	c.Keypad.D0, c.Keypad.D1 = "WG_D0", "WG_D1"
	if c.Keypad.Type != "wiegand" {
		c.Keypad.ReaderD0, c.Keypad.ReaderD1 = "RD_D0", "RD_D1" // sim.Board's reader beside its matrix
	}
	c.Bolt.LockPin, c.Bolt.UnlockPin = "MOTOR_LOCK", "MOTOR_UNLOCK"
	c.Bolt.LimitLocked, c.Bolt.LimitUnlocked = "LIMIT_LOCKED", "LIMIT_UNLOCKED"
	c.Bolt.LimitLowOn, c.Bolt.MotorLowOn = true, false
	c.Bolt.StrikePin, c.Bolt.StrikeLowOn = "STRIKE", false
	c.Door.Pin, c.Door.ClosedLow = "DOOR", true
	c.Board.TamperPin, c.Board.TamperClosedLow = "TAMPER", true
	c.Board.PowerPin, c.Board.PowerGoodLow = "POWER_GOOD", true
	c.Indicators = config.Indicators{Green: "LED_GREEN", Red: "LED_RED", Buzzer: "BUZZER"}
	return c
}

// Keypad returns whichever keypad driver was built, joined with the card
// reader beside it when there is one (reader.go).
func (h *Hardware) Keypad() interface {
	Run(context.Context, chan<- gpio.KeyEvent) error
} {
	if h.Wiegand != nil {
		return h.Wiegand
	}
	if h.Reader != nil {
		return inputs{h.Matrix, h.Reader}
	}
	return h.Matrix
}

// Bolt returns whichever bolt driver was built.
func (h *Hardware) Bolt() interface {
	Lock(context.Context) error
	Unlock(context.Context) error
	Position() gpio.Position
	Stop() error
} {
	if h.Strike != nil {
		return h.Strike
	}
	return h.Motor
}

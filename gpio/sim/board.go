package sim

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// BoardConfig chooses what the simulated board carries.
type BoardConfig struct {
	Layout  string        // matrix layout; default Layout3x4
	Wiegand bool          // a Wiegand keypad instead of the matrix
	Strike  bool          // a relay strike instead of the motor bolt
	Travel  time.Duration // motor travel end to end; default 800 ms
	Start   float64       // bolt position at power-on, BoltUnlocked (0) to BoltLocked (1)
}

// Board is the whole lock's electronics: keypad, bolt, door sensor, LEDs and
// buzzer, with pins named as the built-in simulation config expects (see
// PinNames). The real drivers get its pins through ByName, exactly as they
// get real pins through gpioreg.ByName.
type Board struct {
	Matrix  *Matrix  // nil with a Wiegand keypad
	Wiegand *Wiegand // nil with a matrix keypad
	// Reader is a Wiegand card reader beside the matrix keypad (pins
	// RD_D0, RD_D1); nil with a Wiegand keypad, which reads cards itself.
	Reader *Wiegand
	Motor  *Motor  // nil with a strike
	Strike *Strike // nil with a motor
	Door   *Door
	Tamper *Switch // the case's tamper switch, to ground
	Power  *Switch // the supply's power-good line, to ground while mains is present
	Green  *Output
	Red    *Output
	Buzzer *Output

	pins   map[string]*Pin
	layout string
}

// NewBoard builds a board. The motor's limit switches and the door's reed
// switch to ground (active low, pulled up by the drivers), as on the
// reference wiring in the README.
func NewBoard(cfg BoardConfig) (*Board, error) {
	b := &Board{pins: map[string]*Pin{}}
	if cfg.Wiegand {
		b.Wiegand = NewWiegand()
		b.add("WG_D0", b.Wiegand.D0())
		b.add("WG_D1", b.Wiegand.D1())
	} else {
		layout := cfg.Layout
		if layout == "" {
			layout = Layout3x4
		}
		m, err := NewMatrix(layout)
		if err != nil {
			return nil, err
		}
		b.Matrix, b.layout = m, layout
		b.Reader = NewWiegand()
		b.add("RD_D0", b.Reader.D0())
		b.add("RD_D1", b.Reader.D1())
		for i, p := range m.RowPins() {
			b.add(fmt.Sprintf("KP_ROW%d", i), p)
		}
		for i, p := range m.ColPins() {
			b.add(fmt.Sprintf("KP_COL%d", i), p)
		}
	}
	if cfg.Strike {
		b.Strike = NewStrike(false)
		b.add("STRIKE", b.Strike.Pin())
	} else {
		travel := cfg.Travel
		if travel <= 0 {
			travel = 800 * time.Millisecond
		}
		b.Motor = NewMotor(travel, StartAt(cfg.Start), SwitchActiveLow())
		b.add("MOTOR_LOCK", b.Motor.LockDir())
		b.add("MOTOR_UNLOCK", b.Motor.UnlockDir())
		b.add("LIMIT_LOCKED", b.Motor.LockedSwitch())
		b.add("LIMIT_UNLOCKED", b.Motor.UnlockedSwitch())
	}
	b.Door = NewDoor(DoorActiveLow())
	b.add("DOOR", b.Door.Pin())
	b.Tamper, b.Power = NewSwitch("TAMPER", true), NewSwitch("POWER_GOOD", true)
	b.add("TAMPER", b.Tamper.Pin())
	b.add("POWER_GOOD", b.Power.Pin())
	b.Green = NewOutput("LED_GREEN", false)
	b.Red = NewOutput("LED_RED", false)
	b.Buzzer = NewOutput("BUZZER", false)
	b.add("LED_GREEN", b.Green.Pin())
	b.add("LED_RED", b.Red.Pin())
	b.add("BUZZER", b.Buzzer.Pin())
	return b, nil
}

func (b *Board) add(name string, p *Pin) { b.pins[name] = p }

// ByName returns the pin called name, or nil, like gpioreg.ByName.
func (b *Board) ByName(name string) gpio.PinIO {
	if p, ok := b.pins[name]; ok {
		return p
	}
	return nil
}

// PinNames lists the board's pins, sorted.
func (b *Board) PinNames() []string {
	var n []string
	for k := range b.pins {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Timing of Press: a human typist. Holds of 150 ms, not the 80 ms of a
// brisk one: the real scanner watches the simulated contacts in real
// time, and on a loaded machine (make test runs -race and the arm64 tests
// under QEMU side by side) a scanner goroutine parked for 80 ms missed a
// key.
const (
	pressHold = 150 * time.Millisecond
	pressGap  = 100 * time.Millisecond
)

// PressTime is how long Press takes for n keys when nothing is late.
func (b *Board) PressTime(n int) time.Duration { return time.Duration(n) * (pressHold + pressGap) }

// Press types keys on whichever keypad the board carries, as a person
// would: through the electrical model, so the real scanner or Wiegand
// decoder reads them. It returns once the last key is released.
func (b *Board) Press(ctx context.Context, keys string) error {
	for i := 0; i < len(keys); i++ {
		if !strings.ContainsRune(b.keys(), rune(keys[i])) {
			return fmt.Errorf("sim: no key %q on this keypad", keys[i])
		}
	}
	if b.Wiegand != nil {
		return b.Wiegand.Type(ctx, keys, pressGap)
	}
	return b.Matrix.Type(ctx, keys, pressHold, pressGap)
}

// keys lists the keys the keypad has.
func (b *Board) keys() string {
	if b.Wiegand != nil {
		return "0123456789*#"
	}
	return strings.ReplaceAll(b.layout, "/", "")
}

// SetDoor opens or closes the door.
func (b *Board) SetDoor(open bool) { b.Door.SetOpen(open) }

// SetJam puts an obstacle in the bolt's way, or takes it away. A board
// with a strike has nothing to jam and returns an error.
func (b *Board) SetJam(jam bool) error {
	if b.Motor == nil {
		return fmt.Errorf("sim: a strike cannot jam")
	}
	b.Motor.SetJam(jam)
	return nil
}

// SetTamper opens the case (the tamper switch opens) or shuts it.
func (b *Board) SetTamper(open bool) { b.Tamper.SetClosed(!open) }

// SetMains cuts the mains (the supply's power-good line drops) or
// restores it.
func (b *Board) SetMains(present bool) { b.Power.SetClosed(present) }

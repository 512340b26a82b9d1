package gpio

import (
	"errors"
	"time"
)

// PollInterval bounds every WaitForEdge call, so that a driver notices a
// cancelled context within this time. Edges still wake it at once.
const PollInterval = 200 * time.Millisecond

// Key is one key of a keypad: '0'..'9', '*', '#', and 'A'..'D' on 4x4 pads.
type Key byte

// String returns the key as printed on the pad.
func (k Key) String() string { return string(rune(k)) }

// IsDigit reports whether k is '0'..'9'.
func (k Key) IsDigit() bool { return k >= '0' && k <= '9' }

// Card is a decoded Wiegand card frame (26 or 34 bits) with good parity.
type Card struct {
	Bits     int    // 26 or 34
	Facility uint32 // facility (site) code
	Number   uint32 // card number
}

// KeyEvent is what a keypad reports: a key going down or up, or a card.
// Wiegand keypads report presses only (Down is true, no release follows).
// A Wiegand reader also reports each frame it could not decode, with Err
// set (wrapping ErrWiegandLength, ErrWiegandParity or ErrWiegandKey) and
// nothing else but Time: the lock refuses it visibly, nothing was read.
type KeyEvent struct {
	Key  Key   // 0 when Card or Err is set
	Down bool  // true on press, false on release
	Card *Card // non-nil for a card frame
	Err  error // non-nil for a malformed frame
	Time time.Time
}

// Position is where the bolt is, as the hardware reports it.
type Position int

// Positions. PosUnknown means the hardware cannot tell (between the limit
// switches, or both switches closed at once, which is a wiring fault).
const (
	PosUnknown Position = iota
	PosLocked
	PosUnlocked
)

func (p Position) String() string {
	switch p {
	case PosLocked:
		return "locked"
	case PosUnlocked:
		return "unlocked"
	}
	return "unknown"
}

// Errors callers must tell apart.
var (
	// ErrJammed is returned by a bolt that did not reach its end within
	// the travel timeout. The motor is stopped; see Motor for the retry.
	ErrJammed = errors.New("gpio: bolt jammed")
	// ErrFault is returned when the hardware reports something impossible,
	// such as both limit switches closed at once.
	ErrFault = errors.New("gpio: hardware fault")
)

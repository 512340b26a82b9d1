package lock

import (
	"context"
	"time"

	"lockd.dev/lockd/gpio"
)

// Keypad delivers key presses and releases (and Wiegand cards) until ctx is
// cancelled, then returns nil. An error means the keypad stopped working;
// the core then keeps the bolt where it is and reports the error.
type Keypad interface {
	Run(ctx context.Context, events chan<- gpio.KeyEvent) error
}

// Bolt moves the bolt. Lock and Unlock block until the bolt reaches that end
// (nil), the travel times out (an error wrapping gpio.ErrJammed, motor
// stopped), or ctx is cancelled (motor stopped at once, ctx.Err()). Position
// reads the hardware without moving anything. Stop de-energises everything.
type Bolt interface {
	Lock(ctx context.Context) error
	Unlock(ctx context.Context) error
	Position() gpio.Position
	Stop() error
}

// Door is the optional door sensor. Run sends the debounced open state on
// every change until ctx is cancelled.
type Door interface {
	Open() bool
	Run(ctx context.Context, changes chan<- bool) error
}

// Indicator shows feedback on the LEDs and buzzer. Show plays a pattern
// once (or until replaced); Beeps signals a number (a new code's slot);
// SetBackground sets what plays between them. None may block.
type Indicator interface {
	Show(p gpio.Pattern)
	Beeps(n int)
	SetBackground(p gpio.Pattern)
}

// Purpose says what an entry at the keypad is for.
type Purpose int

// Purposes of a keypad entry.
const (
	// PurposeOpen is "CODE #": open the door.
	PurposeOpen Purpose = iota
	// PurposeAdmin is "* ADMIN #" on a provisioned unit: programming mode.
	PurposeAdmin
	// PurposeSetup is "* SETUP #" on an unprovisioned unit.
	PurposeSetup
)

func (p Purpose) String() string {
	switch p {
	case PurposeAdmin:
		return "admin"
	case PurposeSetup:
		return "setup"
	}
	return "open"
}

// Refusal reasons a Verdict carries. They are part of the audit log and
// D-Bus contract.
const (
	ReasonUnknown         = "unknown"
	ReasonDisabled        = "disabled"
	ReasonOutsideSchedule = "outside-schedule"
	ReasonExpired         = "expired"
	ReasonUsedUp          = "used-up"
	ReasonLockedOut       = "locked-out"
	ReasonUnprovisioned   = "unprovisioned"
	ReasonClockUntrusted  = "clock-untrusted"
	ReasonError           = "error" // the store failed; nothing was granted
)

// Verdict is the answer of the code store to one entry.
type Verdict struct {
	OK       bool
	Reason   string // why not, one of the Reason constants, when !OK
	CodeID   int64  // the matching code, when known
	Slot     int    // its keypad slot number, when it has one
	Kind     string // "admin", "user", "duress", ... of the matching code
	Duress   bool   // opens like a user code and raises a silent duress event
	Lockout  bool   // this entry started or extended a lockout
	Until    time.Time
	Failures int // consecutive failures after this entry
	// UserID is the user of the matching credential, Credential its type
	// ("pin" or "card"); CodeID is the credential's id.
	UserID     int64
	Credential string
	// NonAccess: a non-access user's credential: record it, open nothing.
	NonAccess bool
	// SecondFactor: a two-factor user's card was accepted; the user's PIN
	// opens until Until.
	SecondFactor bool
}

// Codes is the code store as the core uses it. Verify records the attempt
// (failure count, lockout, uses of limited codes) durably before it
// returns. While a lockout runs every Verify is refused with
// ReasonLockedOut. Errors from the setters are shown to a person (as an
// event reason) and must never contain code digits.
type Codes interface {
	Provisioned(ctx context.Context) (bool, error)
	Verify(ctx context.Context, p Purpose, code string, now time.Time) (Verdict, error)
	// SetAdmin sets the admin code; on an unprovisioned unit it also burns
	// the setup code.
	SetAdmin(ctx context.Context, code string, now time.Time) error
	// AddUser adds a user code to the next free slot and returns the slot.
	AddUser(ctx context.Context, code string, now time.Time) (slot int, err error)
	// RemoveSlot deletes the code in a keypad slot.
	RemoveSlot(ctx context.Context, slot int, now time.Time) error
	// LockedOutUntil returns the end of the running lockout, or zero.
	LockedOutUntil(ctx context.Context, now time.Time) (time.Time, error)
	// WrongEntriesLeft returns how many more wrong entries the keypad
	// takes before one starts a lockout, that one included; 0 during a
	// lockout. Time may raise it (a draining budget), only a wrong entry
	// lowers it. It must not write.
	WrongEntriesLeft(ctx context.Context, now time.Time) (int, error)
}

package lock

import (
	"strconv"

	"lockd.dev/lockd/gpio"
)

// MaxDigits is the longest entry the keypad accepts; a longer one is
// refused as a whole rather than truncated, so no prefix of it can match.
const MaxDigits = 12

// mode is where the keypad protocol stands.
type mode int

const (
	modeIdle        mode = iota // typing a code to open, or "* ADMIN #"
	modeProgramming             // admin verified: waiting for "1 CODE #", "2 SLOT #", "3 NEW #" or "#"
	modeSetup                   // setup code verified: waiting for "NEW #"
	modeConfirm                 // waiting for the same code again and "#"
	modeEnrol                   // "4 [SLOT] #" taken: waiting for a card at the reader (cards.go)
)

// op is the programming operation a confirmation completes.
type op byte

const (
	opAddUser  op = '1'
	opRemove   op = '2'
	opNewAdmin op = '3'
	opEnrol    op = '4'
	opAckAlarm op = '8' // "8 #": acknowledge every listed alarm
	opOpMode   op = '9' // "9 N #": operating mode N, in Matter's order (mode.go)
	opSetup    op = 's'
)

// stepKind is what the core must do after a key.
type stepKind int

const (
	stepNone     stepKind = iota // key taken, nothing to decide yet
	stepVerify                   // check code for purpose
	stepLockNow                  // "#" alone: lock
	stepAddUser                  // add code to the next free slot
	stepRemove                   // delete slot
	stepNewAdmin                 // change the admin code
	stepSetup                    // set the first admin code
	stepPrompt                   // a programming step was taken; waiting for the next
	stepMismatch                 // the confirmation differed
	stepBad                      // malformed entry: refused with reason
	stepLeave                    // left programming or setup
	stepOpMode                   // set the operating mode
	stepAckAlarm                 // acknowledge every listed alarm
)

// step is the result of one key.
type step struct {
	kind    stepKind
	purpose Purpose
	code    string
	slot    int
	reason  string
	opMode  OperatingMode // stepOpMode
}

// entry is the keypad protocol of DESIGN.md as a pure state machine: keys
// in, steps out. It does no I/O, so it can be fuzzed on its own; the core
// performs the steps and reports code checks back through verified.
type entry struct {
	mode  mode
	buf   []byte
	star  bool // the entry started with '*'
	over  bool // more than MaxDigits were typed
	op    op
	first string // the first of two matching entries
	enrol int    // modeEnrol: the slot of the user the card is for, 0 for a new user
}

// key feeds one key press. provisioned selects between "* ADMIN #" and
// "* SETUP #" for star entries.
func (e *entry) key(k gpio.Key, provisioned bool) step {
	switch {
	case k.IsDigit():
		if len(e.buf) >= MaxDigits {
			e.over = true
			return step{}
		}
		e.buf = append(e.buf, byte(k))
		return step{}
	case k == '*':
		e.clearBuf()
		if e.mode == modeIdle {
			e.star = true
		}
		return step{}
	case k == '#':
		return e.submit(provisioned)
	}
	// Letters of a 4x4 pad have no meaning in the protocol.
	return step{}
}

func (e *entry) submit(provisioned bool) step {
	code, star, over := string(e.buf), e.star, e.over
	e.clearBuf()
	if over {
		return step{kind: stepBad, reason: "too-long"}
	}
	switch e.mode {
	case modeIdle:
		switch {
		case code == "" && !star:
			return step{kind: stepLockNow}
		case code == "":
			return step{}
		case !star:
			return step{kind: stepVerify, purpose: PurposeOpen, code: code}
		case provisioned:
			return step{kind: stepVerify, purpose: PurposeAdmin, code: code}
		default:
			return step{kind: stepVerify, purpose: PurposeSetup, code: code}
		}
	case modeProgramming:
		if code == "" {
			e.leave()
			return step{kind: stepLeave}
		}
		return e.command(code)
	case modeEnrol:
		e.mode, e.enrol = modeProgramming, 0 // "#" gives up waiting for the card
		return step{kind: stepBad, reason: "no-card"}
	case modeSetup:
		if code == "" {
			e.leave()
			return step{kind: stepLeave}
		}
		e.first, e.op, e.mode = code, opSetup, modeConfirm
		return step{kind: stepPrompt}
	case modeConfirm:
		first, o := e.first, e.op
		e.first = ""
		if o == opSetup {
			e.mode = modeIdle
		} else {
			e.mode = modeProgramming
		}
		if code != first {
			return step{kind: stepMismatch}
		}
		switch o {
		case opAddUser:
			return step{kind: stepAddUser, code: code}
		case opNewAdmin:
			return step{kind: stepNewAdmin, code: code}
		default:
			return step{kind: stepSetup, code: code}
		}
	}
	return step{}
}

// command parses "1 CODE", "2 SLOT", "3 NEW" or "4 [SLOT]" typed in
// programming mode.
func (e *entry) command(s string) step {
	arg := s[1:]
	switch op(s[0]) {
	case opAddUser, opNewAdmin:
		if arg == "" {
			return step{kind: stepBad, reason: "no-code"}
		}
		e.first, e.op, e.mode = arg, op(s[0]), modeConfirm
		return step{kind: stepPrompt}
	case opRemove:
		slot, err := strconv.Atoi(arg)
		if err != nil || slot <= 0 {
			return step{kind: stepBad, reason: "bad-slot"}
		}
		return step{kind: stepRemove, slot: slot}
	case opEnrol:
		slot := 0
		if arg != "" {
			n, err := strconv.Atoi(arg)
			if err != nil || n <= 0 {
				return step{kind: stepBad, reason: "bad-slot"}
			}
			slot = n
		}
		e.mode, e.enrol = modeEnrol, slot
		return step{kind: stepPrompt}
	case opOpMode:
		n, err := strconv.Atoi(arg)
		if err != nil || len(arg) != 1 || n >= len(operatingModes) {
			return step{kind: stepBad, reason: "bad-mode"}
		}
		return step{kind: stepOpMode, opMode: operatingModes[n]}
	case opAckAlarm:
		if arg != "" {
			return step{kind: stepBad, reason: "unknown-command"}
		}
		return step{kind: stepAckAlarm}
	}
	return step{kind: stepBad, reason: "unknown-command"}
}

// verified moves on after the core checked a star entry.
func (e *entry) verified(p Purpose, ok bool) {
	if !ok {
		return
	}
	switch p {
	case PurposeAdmin:
		e.mode = modeProgramming
	case PurposeSetup:
		e.mode = modeSetup
	}
}

// timeout clears a half-typed entry (5 s without a key).
func (e *entry) timeout() { e.clearBuf() }

// leave returns to idle (programming "#" or 30 s without a key).
func (e *entry) leave() {
	e.clearBuf()
	e.mode, e.first, e.op, e.enrol = modeIdle, "", 0, 0
}

// busy reports whether a half-typed entry is pending.
func (e *entry) busy() bool { return len(e.buf) > 0 || e.star || e.over }

func (e *entry) clearBuf() {
	for i := range e.buf {
		e.buf[i] = 0
	}
	e.buf, e.star, e.over = e.buf[:0], false, false
}

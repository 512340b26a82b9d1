package codes

import (
	"errors"
	"fmt"
)

// Errors callers tell apart. Messages never contain code digits.
var (
	// ErrNoDeviceKey: the state dir has no device key; the wrapping error
	// says which command creates it.
	ErrNoDeviceKey = errors.New("no device key")
	// ErrInitialised: FactoryInit found a device key and force was not set.
	ErrInitialised = errors.New("already initialised")
	// ErrNewerSchema: the database was written by a newer lockd and there is
	// no copy for this version to go back to; the file is left untouched.
	ErrNewerSchema = errors.New("database schema is newer than this lockd")
	// ErrCorrupt: the database failed its integrity check and could not be
	// replaced (moving it aside failed, or the fresh file failed too).
	ErrCorrupt = errors.New("database is corrupt")
	// ErrWeakCode: a code breaks a code rule; the error is a *RuleError
	// that says which.
	ErrWeakCode = errors.New("code not allowed")
	// ErrDuplicate: the code is already stored.
	ErrDuplicate = errors.New("code already in use")
	// ErrAmbiguous: the code starts or ends another stored code, or another
	// code starts or ends it, so an entry could match two codes.
	ErrAmbiguous = errors.New("code starts or ends another code")
	// ErrNotFound: no code with that id or slot.
	ErrNotFound = errors.New("no such code")
	// ErrUnprovisioned: the operation needs an admin code to be set first.
	ErrUnprovisioned = errors.New("unit not provisioned: set the admin code first")
	// ErrInvalid: bad options or label (not a code rule).
	ErrInvalid = errors.New("invalid argument")
	// ErrFull: every slot (Options.MaxSlots) is taken.
	ErrFull = errors.New("no free slot")
	// ErrLockedOut: the entry was refused because a lockout runs; see
	// Verdict.Err.
	ErrLockedOut = errors.New("locked out")
	// ErrRefused: the entry was refused for another reason; see Verdict.Err.
	ErrRefused = errors.New("entry refused")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store closed")
)

// RuleError says which code rule a code breaks. It matches ErrWeakCode
// with errors.Is. Its text names the rule, never the digits.
type RuleError struct {
	Reason string // one of the Rule* constants
}

// Code rules a RuleError names.
const (
	RuleTooShort  = "too-short"  // fewer than 4 digits (6 for admin)
	RuleTooLong   = "too-long"   // more than 12 digits
	RuleNotDigits = "not-digits" // anything but ASCII 0-9
	RuleAllSame   = "all-same"   // 0000, 777777
	RuleSequence  = "sequence"   // 1234, 9876, 7890, 2109 (wrapping too)
	RuleCommon    = "common"     // one of the 20 most common PINs
)

// ruleText explains each rule in a sentence for a person; the rule's name
// is for programs (RuleError.Reason, the audit log), not repeated here.
var ruleText = map[string]string{
	RuleTooShort:  "code too short: a user code needs at least 4 digits, the admin code at least 6",
	RuleTooLong:   "code too long: at most 12 digits",
	RuleNotDigits: "a code holds only the digits 0-9",
	RuleAllSame:   "code too easy to guess: all its digits are the same",
	RuleSequence:  "code too easy to guess: its digits are a sequence, straight up or down",
	RuleCommon:    "code too easy to guess: it is one of the most common PINs",
}

// Error explains the rule.
func (e *RuleError) Error() string { return "codes: " + ruleText[e.Reason] }

// Unwrap makes errors.Is(err, ErrWeakCode) true.
func (e *RuleError) Unwrap() error { return ErrWeakCode }

// invalid is an ErrInvalid whose text says what is wrong without
// repeating "invalid argument" after it.
type invalid struct{ msg string }

func (e *invalid) Error() string        { return e.msg }
func (e *invalid) Is(target error) bool { return target == ErrInvalid }

// invalidf returns an error that matches ErrInvalid with errors.Is.
func invalidf(format string, args ...any) error {
	return &invalid{msg: fmt.Sprintf(format, args...)}
}

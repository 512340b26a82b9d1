package pin

import (
	"sync"
	"time"
)

// The wrong-PIN limits: lockd's keypad numbers (DESIGN.md "Keypad"), so
// a PIN over MQTT is no easier to guess than a code at the door.
const (
	lockoutAfter = 5
	lockoutBase  = 30 * time.Second
	lockoutMax   = time.Hour
)

// Result is what Guard.Check decided.
type Result int

const (
	// OK: the PIN is right.
	OK Result = iota
	// Wrong: the PIN is wrong (counted).
	Wrong
	// LockedOut: too many wrong PINs; this one was not even checked.
	LockedOut
)

// Guard checks PINs and, after lockoutAfter wrong ones in a row, refuses
// every PIN for lockoutBase, doubling with each further wrong one up to
// lockoutMax. During a lockout nothing is checked, so the answer says
// nothing about the PIN. The count lives in memory: lockd-mqtt does not
// restart on a remote request (a hostile payload changes nothing, fuzzed),
// and the broker credentials an attacker needs are the bigger wall.
type Guard struct {
	v   *Verifier
	now func() time.Time

	mu     sync.Mutex
	wrong  int
	until  time.Time
	streak int // lockouts since the last right PIN
}

// NewGuard guards v; now is the clock (time.Now).
func NewGuard(v *Verifier, now func() time.Time) *Guard {
	return &Guard{v: v, now: now}
}

// Check answers one PIN; until is the end of a lockout (LockedOut, or
// Wrong when this one started it).
func (g *Guard) Check(pin string) (r Result, until time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if now.Before(g.until) {
		return LockedOut, g.until
	}
	if g.v.Match(pin) {
		g.wrong, g.streak = 0, 0
		return OK, time.Time{}
	}
	g.wrong++
	if g.wrong >= lockoutAfter {
		d := min(lockoutBase<<min(g.streak, 20), lockoutMax)
		g.streak++
		g.wrong = lockoutAfter - 1 // the next wrong one after the lockout starts another
		g.until = now.Add(d)
		return Wrong, g.until
	}
	return Wrong, time.Time{}
}

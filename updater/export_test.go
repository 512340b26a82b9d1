package updater

import "context"

// Step runs one turn of Run's loop, for tests that drive time themselves.
func (u *Updater) Step(ctx context.Context) { u.step(ctx) }

// ParseState exposes the state file parser to the fuzz test.
var ParseState = parseState

// BootedSlot exposes the command-line check.
var BootedSlot = bootedSlot

// CheckNotInUse exposes the mount check.
var CheckNotInUse = checkNotInUse

// ForceOperation sets the running operation, for the test that an install
// into the committed slot is refused even with the operation left wrong.
func (u *Updater) ForceOperation(op string) {
	u.mu.Lock()
	u.op = op
	u.mu.Unlock()
}

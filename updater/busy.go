package updater

import "fmt"

// An operation (an install, the switch into a trial, a trial and its
// commit) owns the slots and the state file from its start to its end, and
// only it moves the operation on. The owner's commands therefore run only
// between operations; while one runs they are refused with ErrBusy and
// change nothing. Before, Reject during an install's checks set the
// operation to idle, and a second install then ran beside the first.
//
// Reject does not cancel a running install; it is refused. Cancelling
// would add a second way for an install to end, racing the writer's own
// last save, and would have to decide what happens to the update that was
// pending when the install began (still intact during the checks, already
// gone once the slot is written). Refused, the owner waits for the install
// to end and rejects what it left pending: the same end state (slot marked
// empty, nothing pending), with one writer of the state at any time.

// ownerCommand names a command of the owner for admit.
type ownerCommand string

const (
	cmdInstall ownerCommand = "install"
	cmdApprove ownerCommand = "approve"
	cmdReject  ownerCommand = "reject"
)

// admit returns nil when cmd may run now, else ErrBusy saying what runs.
// The caller holds u.mu and has checked u.broken.
func (u *Updater) admit(cmd ownerCommand) error {
	var pending, slot string
	if p := u.state.Pending; p != nil {
		pending, slot = p.Version, string(p.Slot)
	}
	switch u.op {
	case "idle", "pending":
		return u.admitSlot(cmd)
	case "armed":
		if cmd == cmdInstall {
			return fmt.Errorf("%w: update %s is armed for the next boot", ErrBusy, pending)
		}
		return nil
	case "verifying", "writing", "syncing":
		return fmt.Errorf("%w: an install is running (%s, %d %%); it cannot be cancelled: %s once it has ended (lockctl update status)",
			ErrBusy, u.op, u.progress, cmd)
	case "checking":
		if cmd == cmdApprove {
			return nil // it is approved already, or the policy let it go
		}
		return fmt.Errorf("%w: slot %s is being checked before the reboot into update %s; try again in a moment", ErrBusy, slot, pending)
	case "rebooting":
		if cmd == cmdApprove {
			return nil
		}
		return fmt.Errorf("%w: the unit is rebooting into update %s", ErrBusy, pending)
	case "trial", "committing":
		return fmt.Errorf("%w: update %s is on trial now; it commits or falls back by itself", ErrBusy, pending)
	case "trial-failed":
		return fmt.Errorf("%w: the trial of slot %s was given up; the unit falls back to slot %s at the next boot",
			ErrBusy, u.booted, u.committed)
	}
	return fmt.Errorf("%w: an update is %s", ErrBusy, u.op)
}

// admitSlot refuses an install whose target, the slot not booted, is the
// committed one: that is the slot the boot chain falls back to, and this
// boot runs an uncommitted trial. admit's operations already keep an
// install out of a trial; this holds even should an operation be left
// wrong.
func (u *Updater) admitSlot(cmd ownerCommand) error {
	if cmd != cmdInstall || u.booted == u.committed {
		return nil
	}
	return fmt.Errorf("%w: slot %s is the committed slot this unit falls back to, and this boot (slot %s) is not committed; install once it is",
		ErrBusy, u.committed, u.booted)
}

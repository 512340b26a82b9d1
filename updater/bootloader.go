package updater

import "context"

// Bootloader is the boot chain as the updater uses it. Each method that
// changes something is one atomic write of the bootloader's storage, so a
// power cut leaves either the old or the new state.
type Bootloader interface {
	// State reads the committed slot, the slot armed for a trial, and
	// whether a trial has been spent (the boot chain gave up on it and
	// booted the committed slot). A corrupt or unreadable store is an
	// error, never a guess.
	State(ctx context.Context) (BootState, error)
	// Arm makes slot the trial for the next tries boots.
	Arm(ctx context.Context, slot Slot, tries int) error
	// Commit makes slot the committed one and clears the trial.
	Commit(ctx context.Context, slot Slot) error
	// Disarm clears the trial and the evidence of a spent one.
	Disarm(ctx context.Context) error
	// RebootParam is the argument the reboot into an armed trial needs
	// ("0 tryboot" for the Pi firmware), or "".
	RebootParam() string
}

// BootState is what Bootloader.State reads.
type BootState struct {
	// Committed is the slot booted when no trial runs. An unset or
	// invalid committed slot reads as A, as the boot script boots A then.
	Committed Slot
	// Trial is the slot armed for a trial, or "".
	Trial Slot
	// TriesLeft is the number of trial boots left, where the bootloader
	// counts them (-1 where it does not).
	TriesLeft int
	// Spent reports that a trial ended without a commit: the boot chain
	// booted the committed slot instead.
	Spent bool
	// TrialBoot reports that this boot is a trial boot, where the
	// bootloader tells (the Pi firmware's tryboot flag). Backends that
	// cannot tell leave it false and the updater compares the booted slot
	// with Trial.
	TrialBoot bool
}

// TrialCounter is a Bootloader that boots an armed trial another number of
// times than the tries it was armed with: the Pi firmware tries once. The
// updater uses it to say how many boots a rolled-back trial had.
type TrialCounter interface {
	TrialBoots(armed int) int
}

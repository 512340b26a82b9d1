// Package uboot is the U-Boot backend of updater.Bootloader: the variables
// lockd_slot, lockd_try and lockd_try_left of DESIGN.md in an environment
// of libubootenv's format (fw_env.config), read and written by
// updater/ubootenv.
//
// The boot script boots lockd_try while lockd_try_left > 0, decrementing
// it first; once it is 0 the script clears lockd_try and boots lockd_slot,
// leaving lockd_try_left at 0. lockd deletes lockd_try_left whenever it
// arms nothing (Commit, Disarm), so a lockd_try_left without a lockd_try
// is the boot script's mark of a spent trial.
package uboot

import (
	"context"
	"fmt"
	"strconv"

	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/ubootenv"
)

// The variables of the bootloader contract (DESIGN.md).
const (
	VarSlot     = "lockd_slot"
	VarTry      = "lockd_try"
	VarTryLeft  = "lockd_try_left"
	maxTryBoots = 9 // the boot script counts down one decimal digit
)

// Bootloader drives the boot script through the U-Boot environment.
type Bootloader struct {
	env *ubootenv.Env
}

var _ updater.Bootloader = (*Bootloader)(nil)

// New returns the backend over an open environment.
func New(env *ubootenv.Env) *Bootloader { return &Bootloader{env: env} }

// Open reads fw_env.config at path and opens the environment it names.
func Open(path string, opts ...ubootenv.Option) (*Bootloader, error) {
	cfg, err := ubootenv.ParseConfig(path)
	if err != nil {
		return nil, fmt.Errorf("uboot: %w", err)
	}
	env, err := ubootenv.Open(cfg, opts...)
	if err != nil {
		return nil, fmt.Errorf("uboot: %w", err)
	}
	return New(env), nil
}

// State implements updater.Bootloader. It reads the variables the way the
// boot script does: an unset or invalid lockd_slot is A, an invalid
// lockd_try is no trial.
func (b *Bootloader) State(ctx context.Context) (updater.BootState, error) {
	vars, err := b.env.Read(ctx)
	if err != nil {
		return updater.BootState{}, fmt.Errorf("uboot: %w", err)
	}
	return StateOf(vars), nil
}

// StateOf interprets the contract's variables as the boot script does.
func StateOf(vars map[string]string) updater.BootState {
	s := updater.BootState{Committed: updater.SlotA}
	if sl, err := updater.ParseSlot(vars[VarSlot]); err == nil {
		s.Committed = sl
	}
	left, leftOK := tryLeft(vars[VarTryLeft])
	if sl, err := updater.ParseSlot(vars[VarTry]); err == nil && sl != s.Committed {
		s.Trial = sl
		if leftOK {
			s.TriesLeft = left
		}
		return s
	}
	_, present := vars[VarTryLeft]
	s.Spent = present
	return s
}

// tryLeft parses lockd_try_left as the boot script does: one decimal digit.
func tryLeft(v string) (int, bool) {
	if len(v) != 1 || v[0] < '0' || v[0] > '9' {
		return 0, false
	}
	n, _ := strconv.Atoi(v)
	return n, true
}

// Arm implements updater.Bootloader: lockd_try and lockd_try_left in one
// environment write.
func (b *Bootloader) Arm(ctx context.Context, slot updater.Slot, tries int) error {
	if !slot.Valid() {
		return fmt.Errorf("uboot: arm: invalid slot %q", slot)
	}
	if tries < 1 || tries > maxTryBoots {
		return fmt.Errorf("uboot: arm: %d trial boots; the boot script counts 1..%d", tries, maxTryBoots)
	}
	if err := b.env.Update(ctx, map[string]string{VarTry: string(slot), VarTryLeft: strconv.Itoa(tries)}); err != nil {
		return fmt.Errorf("uboot: arm %s: %w", slot, err)
	}
	return nil
}

// Commit implements updater.Bootloader: lockd_slot set, lockd_try and
// lockd_try_left deleted, in one environment write.
func (b *Bootloader) Commit(ctx context.Context, slot updater.Slot) error {
	if !slot.Valid() {
		return fmt.Errorf("uboot: commit: invalid slot %q", slot)
	}
	if err := b.env.Update(ctx, map[string]string{VarSlot: string(slot), VarTry: "", VarTryLeft: ""}); err != nil {
		return fmt.Errorf("uboot: commit %s: %w", slot, err)
	}
	return nil
}

// Disarm implements updater.Bootloader.
func (b *Bootloader) Disarm(ctx context.Context) error {
	if err := b.env.Update(ctx, map[string]string{VarTry: "", VarTryLeft: ""}); err != nil {
		return fmt.Errorf("uboot: disarm: %w", err)
	}
	return nil
}

// RebootParam implements updater.Bootloader: U-Boot needs none.
func (b *Bootloader) RebootParam() string { return "" }

package main

import (
	"context"
	"errors"
	"fmt"

	"lockd.dev/lockd/dbusapi/wire"
)

// accessDenied reports whether err is the bus's or lockd's AccessDenied.
func accessDenied(err error) bool {
	var r *refusal
	return errors.As(err, &r) && r.name == wire.ErrAccessDenied
}

// errAlreadySetUp refuses `lockctl setup` on a unit that has an admin
// code: setting one there would silently replace the owner's.
var errAlreadySetUp = errors.New("setup: this unit is already set up; to change its admin code run " +
	"'lockctl setup --change', or on the keypad type * ADMIN # 3 NEW # NEW #")

// cmdSetup is `lockctl setup`: set the admin code of a new unit, which
// completes setup and burns the setup code; with --change, replace the
// admin code of a unit already set up.
func (a *app) cmdSetup(ctx context.Context, args []string) error {
	fs := a.flagSet("setup")
	change := fs.Bool("change", false, "")
	if _, err := a.parse("setup", fs, args, 0, 0); err != nil {
		return err
	}
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	// A caller who may not read gets lockd's own refusal from
	// SetAdminCode; anything else (lockd not there) is said before the
	// code is asked for.
	wasProvisioned := false
	if v, err := c.prop(ctx, ifaceLock, "Provisioned"); err == nil {
		wasProvisioned, _ = v.Value().(bool)
	} else if !accessDenied(err) {
		return err
	}
	if wasProvisioned && !*change {
		return errAlreadySetUp
	}
	code, err := a.readCode(ctx, "admin code")
	if err != nil {
		return err
	}
	if err := c.call(ctx, ifaceCodes, "SetAdminCode", []any{code}); err != nil {
		return err
	}
	if a.json {
		return printJSON(a.stdout, map[string]any{"provisioned": true, "changed": wasProvisioned})
	}
	if wasProvisioned {
		fmt.Fprintln(a.stdout, "Admin code changed.")
	} else {
		fmt.Fprintln(a.stdout, "Admin code set: setup complete. The setup code no longer works.")
	}
	return nil
}

package main

import (
	"context"
	"fmt"
)

// cmdSetup is `lockctl setup`: set (or change) the admin code. On an
// unprovisioned unit this completes setup and burns the setup code.
func (a *app) cmdSetup(ctx context.Context, args []string) error {
	if _, err := a.parse("setup", a.flagSet("setup"), args, 0, 0); err != nil {
		return err
	}
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	// Only for the message: a caller who may not read still gets lockd's
	// own refusal from SetAdminCode.
	wasProvisioned := false
	if v, err := c.prop(ctx, ifaceLock, "Provisioned"); err == nil {
		wasProvisioned, _ = v.Value().(bool)
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

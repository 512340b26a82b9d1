package main

import (
	"context"
	"fmt"
	"strconv"
)

// cmdCode is `lockctl code add|list|remove|enable|disable|reset-lockout`.
func (a *app) cmdCode(ctx context.Context, args []string) error {
	sub, rest, err := subcommand("code", args, "add", "list", "remove", "enable", "disable", "reset-lockout")
	if err != nil {
		return err
	}
	switch sub {
	case "add":
		return a.codeAdd(ctx, rest)
	case "list":
		return a.codeList(ctx, rest)
	case "reset-lockout":
		return a.codeResetLockout(ctx, rest)
	}
	return a.codeByID(ctx, sub, rest)
}

// codeAdd is `lockctl code add`; the code itself comes from readCode.
func (a *app) codeAdd(ctx context.Context, args []string) error {
	fs := a.flagSet("code add")
	var f addFlags
	fs.StringVar(&f.label, "label", "", "")
	fs.StringVar(&f.kind, "kind", "", "")
	fs.StringVar(&f.weekdays, "weekdays", "", "")
	fs.StringVar(&f.from, "from", "", "")
	fs.StringVar(&f.until, "until", "", "")
	fs.StringVar(&f.validFrom, "valid-from", "", "")
	fs.StringVar(&f.validUntil, "valid-until", "", "")
	fs.IntVar(&f.uses, "uses", -1, "")
	if _, err := a.parse("code add", fs, args, 0, 0); err != nil {
		return err
	}
	opts, err := f.options()
	if err != nil {
		return err
	}
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	code, err := a.readCode(ctx, "code")
	if err != nil {
		return err
	}
	var id uint32
	if err := c.call(ctx, ifaceCodes, "Add", []any{f.label, code, opts}, &id); err != nil {
		return err
	}
	// The slot is what a person types in programming mode ("2 SLOT #"):
	// worth one more call to show it.
	var slot int64
	if list, err := c.listCodes(ctx); err == nil {
		for _, ci := range list {
			if ci.ID == id {
				slot = ci.Slot
			}
		}
	}
	if a.json {
		return printJSON(a.stdout, map[string]any{"id": id, "slot": slot, "kind": opts["kind"].Value()})
	}
	if slot != 0 {
		fmt.Fprintf(a.stdout, "Added code %d (%s) in keypad slot %d.\n", id, opts["kind"].Value(), slot)
	} else {
		fmt.Fprintf(a.stdout, "Added code %d (%s).\n", id, opts["kind"].Value())
	}
	return nil
}

// codeList is `lockctl code list`.
func (a *app) codeList(ctx context.Context, args []string) error {
	if _, err := a.parse("code list", a.flagSet("code list"), args, 0, 0); err != nil {
		return err
	}
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	list, err := c.listCodes(ctx)
	if err != nil {
		return err
	}
	if a.json {
		return printJSON(a.stdout, list)
	}
	writeCodeTable(a.stdout, list)
	return nil
}

// codeByID is `lockctl code remove|enable|disable ID`.
func (a *app) codeByID(ctx context.Context, sub string, args []string) error {
	cmd := "code " + sub
	pos, err := a.parse(cmd, a.flagSet(cmd), args, 1, 1)
	if err != nil {
		return err
	}
	id, err := strconv.ParseUint(pos[0], 10, 32)
	if err != nil || id == 0 {
		return usagef(cmd, "%s: ID must be a code id as shown by 'lockctl code list', not %q", cmd, pos[0])
	}
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	method, callArgs := "SetEnabled", []any{uint32(id), sub == "enable"}
	if sub == "remove" {
		method, callArgs = "Remove", []any{uint32(id)}
	}
	if err := c.call(ctx, ifaceCodes, method, callArgs); err != nil {
		return err
	}
	if a.json {
		return printJSON(a.stdout, map[string]any{"id": id, "done": sub})
	}
	fmt.Fprintf(a.stdout, "%sd code %d.\n", capitalize(sub), id)
	return nil
}

// codeResetLockout is `lockctl code reset-lockout`.
func (a *app) codeResetLockout(ctx context.Context, args []string) error {
	if _, err := a.parse("code reset-lockout", a.flagSet("code reset-lockout"), args, 0, 0); err != nil {
		return err
	}
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	if err := c.call(ctx, ifaceCodes, "ResetLockout", nil); err != nil {
		return err
	}
	if a.json {
		return printJSON(a.stdout, map[string]any{"done": "reset-lockout"})
	}
	fmt.Fprintln(a.stdout, "Keypad lockout reset.")
	return nil
}

package main

import (
	"context"
	"fmt"
	"slices"
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
	return a.codeBySlot(ctx, sub, rest)
}

// codeAdd is `lockctl code add`; the code itself comes from readCode.
func (a *app) codeAdd(ctx context.Context, args []string) error {
	fs := a.flagSet("code add")
	var f addFlags
	addUserFlags(fs, &f)
	if _, err := a.parse("code add", fs, args, 0, 0); err != nil {
		return err
	}
	opts, err := f.options("code add")
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
	// The slot is the number the owner knows the code by (codeBySlot):
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
		fmt.Fprintf(a.stdout, "Added a %s code in keypad slot %d.\n", opts["kind"].Value(), slot)
	} else {
		fmt.Fprintf(a.stdout, "Added a %s code (see 'lockctl code list' for its slot).\n", opts["kind"].Value())
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

// codeBySlot is `lockctl code remove|enable|disable SLOT`.
//
// The owner knows a code by one number, its keypad slot: what the buzzer
// beeps when the code is added, what `2 SLOT #` takes in programming mode,
// what code list and the log show. D-Bus methods take the code's id (a
// contract), so lockctl looks the slot up first. Between the look-up and
// the call the slot could only change hands if someone else removed that
// code and added another; the id then no longer exists and lockd refuses.
func (a *app) codeBySlot(ctx context.Context, sub string, args []string) error {
	cmd := "code " + sub
	pos, err := a.parse(cmd, a.flagSet(cmd), args, 1, 1)
	if err != nil {
		return err
	}
	slot, err := strconv.ParseUint(pos[0], 10, 31)
	if err != nil || slot == 0 {
		return usagef(cmd, "%s: SLOT must be a keypad slot as 'lockctl code list' shows it, not %q", cmd, pos[0])
	}
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	list, err := c.listCodes(ctx)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(list, func(ci codeInfo) bool { return ci.Slot == int64(slot) })
	if i < 0 {
		return fmt.Errorf("%s: no code in keypad slot %d (see 'lockctl code list')", cmd, slot)
	}
	ci := list[i]
	method, callArgs := "SetEnabled", []any{ci.ID, sub == "enable"}
	if sub == "remove" {
		method, callArgs = "Remove", []any{ci.ID}
	}
	if err := c.call(ctx, ifaceCodes, method, callArgs); err != nil {
		return err
	}
	if a.json {
		return printJSON(a.stdout, map[string]any{"slot": slot, "id": ci.ID, "done": sub})
	}
	fmt.Fprintf(a.stdout, "%sd the code in keypad slot %d%s.\n", capitalize(sub), slot, labelled(ci.Label))
	return nil
}

// labelled is " (LABEL)" for a code with a label, else "".
func labelled(label string) string {
	if label == "" {
		return ""
	}
	return " (" + sanitize(label) + ")"
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

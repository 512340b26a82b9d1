package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
)

// cmdCard is `lockctl card add SLOT|list|remove ID`. A card's numbers are
// a secret like a code's digits (a clone needs nothing else): they are
// read like a code, never from the command line, and never printed.
func (a *app) cmdCard(ctx context.Context, args []string) error {
	sub, rest, err := subcommand("card", args, "add", "list", "remove")
	if err != nil {
		return err
	}
	switch sub {
	case "add":
		return a.cardAdd(ctx, rest)
	case "list":
		return a.cardList(ctx, rest)
	}
	return a.cardRemove(ctx, rest)
}

// cardAdd is `lockctl card add [--bits 26|34] SLOT`.
func (a *app) cardAdd(ctx context.Context, args []string) error {
	fs := a.flagSet("card add")
	bits := fs.Int("bits", 0, "")
	pos, err := a.parse("card add", fs, args, 1, 1)
	if err != nil {
		return err
	}
	opts := map[string]dbus.Variant{}
	switch *bits {
	case 0:
	case 26, 34:
		opts[wire.OptBits] = dbus.MakeVariant(uint32(*bits))
	default:
		return usagef("card add", "card add: --bits must be 26 or 34")
	}
	c, u, err := a.slotUser(ctx, "card add", pos[0])
	if err != nil {
		return err
	}
	secret, err := a.readCode(ctx, "card (FACILITY:NUMBER)")
	if err != nil {
		return err
	}
	var id uint32
	if err := c.call(ctx, wire.Users1, "AddCredential", []any{u.ID, wire.CredentialCard, strings.TrimSpace(secret), opts}, &id); err != nil {
		return err
	}
	if a.json {
		return printJSON(a.stdout, map[string]any{"id": id, "slot": u.Slot, "user": u.ID})
	}
	fmt.Fprintf(a.stdout, "Added card %d to the user in keypad slot %d%s.\n", id, u.Slot, labelled(u.Label))
	return nil
}

// cardList is `lockctl card list`: each card's id and user, never its
// numbers.
func (a *app) cardList(ctx context.Context, args []string) error {
	if _, err := a.parse("card list", a.flagSet("card list"), args, 0, 0); err != nil {
		return err
	}
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	users, err := c.listUsers(ctx)
	if err != nil {
		return err
	}
	type card struct {
		ID    uint32 `json:"id"`
		Slot  int64  `json:"slot"`
		Label string `json:"label"`
		User  uint32 `json:"user"`
	}
	cards := []card{}
	for _, u := range users {
		for _, cr := range u.Credentials {
			if cr.Type == wire.CredentialCard {
				cards = append(cards, card{cr.ID, u.Slot, u.Label, u.ID})
			}
		}
	}
	if a.json {
		return printJSON(a.stdout, cards)
	}
	if len(cards) == 0 {
		fmt.Fprintln(a.stdout, "No cards.")
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CARD\tSLOT\tLABEL")
	for _, cd := range cards {
		label := sanitize(cd.Label)
		if label == "" {
			label = "-"
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\n", cd.ID, cd.Slot, label)
	}
	return tw.Flush()
}

// cardRemove is `lockctl card remove ID` (the id card list shows).
func (a *app) cardRemove(ctx context.Context, args []string) error {
	pos, err := a.parse("card remove", a.flagSet("card remove"), args, 1, 1)
	if err != nil {
		return err
	}
	id, err := strconv.ParseUint(pos[0], 10, 32)
	if err != nil || id == 0 {
		return usagef("card remove", "card remove: ID must be a card's id as 'lockctl card list' shows it, not %q", pos[0])
	}
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	if err := c.call(ctx, wire.Users1, "RemoveCredential", []any{uint32(id)}); err != nil {
		return err
	}
	if a.json {
		return printJSON(a.stdout, map[string]any{"id": id, "done": "remove"})
	}
	fmt.Fprintf(a.stdout, "Removed card %d.\n", id)
	return nil
}

package main

import (
	"context"
	"fmt"
	"strconv"

	"lockd.dev/lockd/dbusapi/wire"
)

// simCard is `lockctl sim card FACILITY NUMBER`: Simulator1.PresentCard.
// The simulated card is the tester's, so its numbers may be on the
// command line; what happens to it is in the log.
func (a *app) simCard(ctx context.Context, args []string) error {
	pos, err := a.parse("sim card", a.flagSet("sim card"), args, 2, 2)
	if err != nil {
		return err
	}
	var n [2]uint32
	for i, s := range pos {
		v, err := strconv.ParseUint(s, 10, 16)
		if err != nil {
			return usagef("sim card", "sim card: FACILITY and NUMBER are 0 to 65535, not %q", s)
		}
		n[i] = uint32(v)
	}
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	if err := c.call(ctx, wire.Simulator1, "PresentCard", []any{n[0], n[1]}); err != nil {
		if missingInterface(err) {
			return errNoSim
		}
		return err
	}
	if a.json {
		return printJSON(a.stdout, map[string]any{"done": "card presented"})
	}
	fmt.Fprintln(a.stdout, "Card presented.")
	return nil
}

package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"lockd.dev/lockd/dbusapi/wire"
)

// cmdMode is `lockctl mode [MODE]`: show the operating mode, or set it
// (admins; lockd keeps it before it answers).
func (a *app) cmdMode(ctx context.Context, args []string) error {
	pos, err := a.parse("mode", a.flagSet("mode"), args, 0, 1)
	if err != nil {
		return err
	}
	if len(pos) == 1 && !slices.Contains(wire.OperatingModes, pos[0]) {
		return usagef("mode", "mode: unknown operating mode %q (want %s)", pos[0], strings.Join(wire.OperatingModes, ", "))
	}
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	if len(pos) == 1 {
		if err := c.call(ctx, ifaceLock, "SetOperatingMode", []any{pos[0]}); err != nil {
			return err
		}
	}
	v, err := c.prop(ctx, ifaceLock, wire.PropOperatingMode)
	if err != nil {
		return err
	}
	mode, _ := v.Value().(string)
	if a.json {
		return printJSON(a.stdout, map[string]string{"operating_mode": mode})
	}
	fmt.Fprintf(a.stdout, "Operating mode: %s\n", mode)
	return nil
}

// cmdAlarm is `lockctl alarm ack NAME`: acknowledge a listed alarm
// (admins). One whose condition persists stays listed, silenced.
func (a *app) cmdAlarm(ctx context.Context, args []string) error {
	_, rest, err := subcommand("alarm", args, "ack")
	if err != nil {
		return err
	}
	pos, err := a.parse("alarm ack", a.flagSet("alarm ack"), rest, 1, 1)
	if err != nil {
		return err
	}
	name := pos[0]
	if !slices.Contains(wire.AlarmNames, name) {
		return usagef("alarm ack", "alarm ack: unknown alarm %q (want %s)", name, strings.Join(wire.AlarmNames, ", "))
	}
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	if err := c.call(ctx, ifaceLock, "AcknowledgeAlarm", []any{name}); err != nil {
		return err
	}
	v, err := c.prop(ctx, ifaceLock, wire.PropAlarms)
	if err != nil {
		return err
	}
	listed, _ := v.Value().([]string)
	still := slices.Contains(listed, name)
	if a.json {
		return printJSON(a.stdout, map[string]any{"acknowledged": name, "still_listed": still, "alarms": nonNil(listed)})
	}
	if still {
		fmt.Fprintf(a.stdout, "Acknowledged %s; it stays listed, silenced, while its condition persists.\n", name)
	} else {
		fmt.Fprintf(a.stdout, "Acknowledged %s.\n", name)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

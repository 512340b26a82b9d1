package main

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// errNoSim is the refusal from a lockd not started with --sim.
var errNoSim = errors.New("sim: this lockd is not simulated (io.lockd.Simulator1 not available; start it with --sim)")

// simDoorTimeout bounds how long `sim door` waits for lockd to see the door.
const simDoorTimeout = 5 * time.Second

// cmdSim is `lockctl sim press KEYS|door open|closed|jam on|off`. It drives
// the simulated board through Simulator1, so what follows goes through
// the real keypad scanner and drivers.
func (a *app) cmdSim(ctx context.Context, args []string) error {
	sub, rest, err := subcommand("sim", args, "press", "door", "jam", "card", "tamper", "mains")
	if err != nil {
		return err
	}
	if sub == "card" {
		return a.simCard(ctx, rest) // simcard.go
	}
	cmd := "sim " + sub
	pos, err := a.parse(cmd, a.flagSet(cmd), rest, 1, 1)
	if err != nil {
		return err
	}
	method, arg, done, err := simCall(sub, pos[0])
	if err != nil {
		return err
	}
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	var w *propWatch
	if method == "SetDoor" {
		if w, err = c.watchProps(ctx, ifaceLock); err != nil {
			return err
		}
		defer w.close()
	}
	if err := c.call(ctx, ifaceSim, method, []any{arg}); err != nil {
		if missingInterface(err) {
			return errNoSim
		}
		return err
	}
	if w != nil {
		// The door sensor is debounced like real hardware: wait until
		// lockd has seen it, so the next command of a script meets the
		// door where the script put it.
		if err := c.waitDoor(ctx, w, arg.(bool), simDoorTimeout); err != nil {
			return err
		}
	}
	if a.json {
		return printJSON(a.stdout, map[string]any{"done": done})
	}
	fmt.Fprintln(a.stdout, capitalize(done)+".")
	return nil
}

// simCall maps a sim subcommand and its argument to the Simulator1 call.
// done says what happened without repeating the keys (they may be a code).
func simCall(sub, arg string) (method string, callArg any, done string, err error) {
	switch sub {
	case "press":
		if arg == "" {
			return "", nil, "", usagef("sim press", "sim press: KEYS is empty")
		}
		return "Press", arg, fmt.Sprintf("pressed %d keys", len([]rune(arg))), nil
	case "door":
		switch arg {
		case "open":
			return "SetDoor", true, "door opened", nil
		case "closed", "close":
			return "SetDoor", false, "door closed", nil
		}
		return "", nil, "", usagef("sim door", "sim door: want open or closed, not %q", arg)
	case "jam":
		switch arg {
		case "on":
			return "SetJam", true, "bolt jammed", nil
		case "off":
			return "SetJam", false, "bolt freed", nil
		}
		return "", nil, "", usagef("sim jam", "sim jam: want on or off, not %q", arg)
	case "tamper", "mains":
		return simSwitch(sub, arg) // simalarm.go
	}
	return "", nil, "", usagef("sim", "sim: unknown subcommand %q", sub)
}

// waitDoor waits until lockd reports DoorOpen == open. A unit without a
// door sensor has nothing to wait for.
func (c *client) waitDoor(ctx context.Context, w *propWatch, open bool, timeout time.Duration) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		p, err := c.props(ctx, ifaceLock)
		if err != nil {
			return err
		}
		if _, ok := p["HasDoor"]; (ok && !vBool(p, "HasDoor")) || vBool(p, "DoorOpen") == open {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			return fmt.Errorf("sim door: lockd did not see the door change within %s", timeout)
		case <-w.changed():
		}
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// cmdMove is `lockctl lock` and `lockctl unlock`: ask lockd, then wait
// until the bolt gets there (unless --no-wait), like `systemctl start`.
func (a *app) cmdMove(ctx context.Context, cmd string, args []string) error {
	fs := a.flagSet(cmd)
	noWait := fs.Bool("no-wait", false, "")
	timeout := fs.Duration("timeout", 30*time.Second, "")
	if _, err := a.parse(cmd, fs, args, 0, 0); err != nil {
		return err
	}
	if *timeout <= 0 {
		return usagef(cmd, "%s: --timeout must be positive", cmd)
	}
	c, err := a.connect()
	if err != nil {
		return err
	}
	target, method := "unlocked", "Unlock"
	if cmd == "lock" {
		target, method = "locked", "Lock"
	}
	var w *propWatch
	if !*noWait {
		if w, err = c.watchProps(ctx, ifaceLock); err != nil {
			return err
		}
		defer w.close()
	}
	if err := c.call(ctx, ifaceLock, method, nil); err != nil {
		if cmd == "lock" && doorOpenRefusal(err) {
			return errLockPending
		}
		return err
	}
	state := ""
	if *noWait {
		if v, err := c.prop(ctx, ifaceLock, "State"); err == nil {
			state, _ = v.Value().(string)
		}
	} else if state, err = c.waitState(ctx, w, target, *timeout); err != nil {
		return err
	}
	if a.json {
		return printJSON(a.stdout, map[string]any{"state": state, "requested": target, "waited": !*noWait})
	}
	if *noWait {
		fmt.Fprintf(a.stdout, "%s requested (state: %s).\n", method, state)
	} else {
		fmt.Fprintf(a.stdout, "%s.\n", capitalize(target))
	}
	return nil
}

// errLockPending is a lock the door guard holds back until the door closes.
var errLockPending = errors.New("lock pending: the door is open; lockd will lock as soon as it closes")

// doorOpenRefusal reports whether lockd refused Lock because the door
// guard holds the bolt until the door closes.
func doorOpenRefusal(err error) bool {
	var r *refusal
	if !errors.As(err, &r) {
		return false
	}
	return strings.Contains(r.name, "DoorOpen") || strings.Contains(strings.ToLower(r.msg), "door is open")
}

// waitState waits until State is target. A jam, a bolt that goes back to
// where it started, or the timeout is a failure.
func (c *client) waitState(ctx context.Context, w *propWatch, target string, timeout time.Duration) (string, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	moving, last := false, ""
	for {
		p, err := c.props(ctx, ifaceLock)
		if err != nil {
			return "", err
		}
		st := vString(p, "State")
		last = st
		switch {
		case st == target:
			return st, nil
		case target == "locked" && st == "unlocked" && vBool(p, "DoorOpen"):
			// Accepted, but the door guard holds the bolt back.
			return st, errLockPending
		case st == "jammed":
			return st, errors.New("the bolt jammed; lockd keeps it where it is (see 'lockctl status')")
		case st == "locking" || st == "unlocking":
			moving = true
		case moving && (st == "locked" || st == "unlocked"):
			return st, fmt.Errorf("the bolt went back to %s", st)
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-timer.C:
			return last, fmt.Errorf("the bolt is still %s after %s", last, timeout)
		case <-w.changed():
		}
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

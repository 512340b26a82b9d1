package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// cmdMove is `lockctl lock` and `lockctl unlock`: ask lockd, then wait
// until the bolt gets there (unless --no-wait), like `systemctl start`.
func (a *app) cmdMove(ctx context.Context, cmd string, args []string) error {
	fs := a.flagSet(cmd)
	noWait := fs.Bool("no-wait", false, "")
	if _, err := a.parse(cmd, fs, args, 0, 0); err != nil {
		return err
	}
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	target, method := "unlocked", "Unlock"
	if cmd == "lock" {
		target, method = "locked", "Lock"
	}
	var w *propWatch
	var mw *moveWatch
	if !*noWait {
		if w, err = c.watchProps(ctx, ifaceLock); err != nil {
			return err
		}
		defer w.close()
		// A caller who may not read is told about the call instead: that
		// is the refusal that matters.
		mw = &moveWatch{target: target}
		if v, err := c.prop(ctx, ifaceLock, "State"); err == nil {
			mw.before, _ = v.Value().(string)
		}
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
	} else if state, err = c.waitState(ctx, w, mw, a.timeout); err != nil {
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

// moveWatch judges the states the bolt goes through after Lock or Unlock.
// lockd answers once it has accepted the command and publishes the new
// State a moment later, so a state equal to the one before the call may
// be stale; only a state seen after a movement counts as an outcome.
type moveWatch struct {
	target string // locked or unlocked
	before string // State before the call
	moving bool   // locking or unlocking was seen
	last   string
}

// observe takes one State value in order; done reports an outcome, err
// a failed one.
func (m *moveWatch) observe(st string) (done bool, err error) {
	m.last = st
	switch {
	case st == m.target:
		return true, nil
	case st == "locking" || st == "unlocking":
		m.moving = true
	case st == "jammed" && (m.moving || m.before != "jammed"):
		return true, errors.New("the bolt jammed; lockd keeps it where it is (see 'lockctl status')")
	case m.moving && (st == "locked" || st == "unlocked"):
		return true, fmt.Errorf("the bolt went back to %s", st)
	}
	return false, nil
}

// waitState follows State until the move has an outcome or timeout ends.
// It takes each State from the PropertiesChanged signals in order (a
// re-read alone could miss a short movement) and re-reads after each.
func (c *client) waitState(ctx context.Context, w *propWatch, m *moveWatch, timeout time.Duration) (string, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var sig *dbus.Signal
	for {
		if st, ok := changedState(sig); ok {
			if done, err := m.observe(st); done {
				return st, err
			}
		}
		v, err := c.prop(ctx, ifaceLock, "State")
		if err != nil {
			return "", err
		}
		st, _ := v.Value().(string)
		if done, err := m.observe(st); done {
			return st, err
		}
		select {
		case <-ctx.Done():
			return m.last, ctx.Err()
		case <-timer.C:
			return m.last, fmt.Errorf("the bolt is still %s after %s", m.last, timeout)
		case sig = <-w.changed():
		}
	}
}

// changedState returns the State a PropertiesChanged signal of Lock1
// carries, if any.
func changedState(sig *dbus.Signal) (string, bool) {
	if sig == nil || sig.Name != ifaceProps+".PropertiesChanged" || sig.Path != objectPath {
		return "", false
	}
	var iface string
	var changed map[string]dbus.Variant
	var invalidated []string
	if dbus.Store(sig.Body, &iface, &changed, &invalidated) != nil || iface != ifaceLock {
		return "", false
	}
	st, ok := changed["State"].Value().(string)
	return st, ok
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/godbus/dbus/v5"
	"golang.org/x/term"
)

// errNoUpdater is the refusal from a lockd built before the updater.
var errNoUpdater = errors.New("update: this lockd has no updater yet (io.lockd.Update1 not available)")

// cmdUpdate is `lockctl update install FILE|status|approve|reject`.
func (a *app) cmdUpdate(ctx context.Context, args []string) error {
	sub, rest, err := subcommand("update", args, "install", "status", "approve", "reject")
	if err != nil {
		return err
	}
	cmd := "update " + sub
	n := 0
	if sub == "install" {
		n = 1
	}
	pos, err := a.parse(cmd, a.flagSet(cmd), rest, n, n)
	if err != nil {
		return err
	}
	var bundle *os.File
	if sub == "install" {
		// Opened first, with the caller's rights: a wrong path is reported
		// as such whatever lockd can do.
		if bundle, err = openBundle(pos[0]); err != nil {
			return err
		}
		defer bundle.Close()
	}
	c, err := a.connect()
	if err != nil {
		return err
	}
	if ok, err := c.hasInterface(ctx, ifaceUpdate); err != nil {
		return err
	} else if !ok {
		return errNoUpdater
	}
	switch sub {
	case "install":
		err = a.updateInstall(ctx, c, bundle)
	case "status":
		err = a.updateStatus(ctx, c)
	default:
		method, done := "Approve", "approved"
		if sub == "reject" {
			method, done = "Reject", "rejected"
		}
		if err = c.call(ctx, ifaceUpdate, method, nil); err == nil {
			if a.json {
				err = printJSON(a.stdout, map[string]any{"done": done})
			} else {
				fmt.Fprintf(a.stdout, "Update %s.\n", done)
			}
		}
	}
	if missingInterface(err) {
		return errNoUpdater
	}
	return err
}

// updateProps is io.lockd.Update1's state.
type updateProps struct {
	Operation  string                    `json:"operation"`
	Progress   int64                     `json:"progress"`
	LastError  string                    `json:"last_error"`
	BootedSlot string                    `json:"booted_slot"`
	Slots      map[string]map[string]any `json:"slots"`
}

func newUpdateProps(p map[string]dbus.Variant) updateProps {
	u := updateProps{Operation: vString(p, "Operation"), LastError: vString(p, "LastError"),
		BootedSlot: vString(p, "BootedSlot"), Slots: map[string]map[string]any{}}
	u.Progress, _ = vInt(p, "Progress")
	if slots, ok := p["Slots"].Value().(map[string]map[string]dbus.Variant); ok {
		for name, d := range slots {
			u.Slots[name] = plain(d)
		}
	}
	return u
}

// Operation values at which nothing is running: an install has ended when
// Operation is one of these. "pending" is an installed update waiting for
// approval (issue 5); any other value is a phase of a running install.
var restingOperations = []string{"", "idle", "none", "pending", "rebooting"}

// idle reports whether no update is running.
func (u updateProps) idle() bool { return contains(restingOperations, u.Operation) }

// installResult says how a finished install ended. Install clears
// LastError when it starts, so a LastError at rest is this install's,
// unless the update is pending (installed), which is success.
func (u updateProps) installResult() error {
	if u.Operation != "pending" && u.LastError != "" {
		return fmt.Errorf("update install: %s", u.LastError)
	}
	return nil
}

// updateStatus is `lockctl update status`.
func (a *app) updateStatus(ctx context.Context, c *client) error {
	p, err := c.props(ctx, ifaceUpdate)
	if err != nil {
		return err
	}
	u := newUpdateProps(p)
	if a.json {
		return printJSON(a.stdout, u)
	}
	writeUpdateStatus(a.stdout, u)
	return nil
}

func writeUpdateStatus(w io.Writer, u updateProps) {
	rows := [][2]string{{"Booted slot", orDash(u.BootedSlot)}, {"Operation", orDash(u.Operation)}}
	if !u.idle() {
		rows = append(rows, [2]string{"Progress", fmt.Sprintf("%d%%", u.Progress)})
	}
	rows = append(rows, [2]string{"Last error", orNone(u.LastError)})
	for _, name := range sortedKeys(u.Slots) {
		var s string
		for i, k := range sortedKeys(u.Slots[name]) {
			if i > 0 {
				s += " "
			}
			s += fmt.Sprintf("%s=%v", k, u.Slots[name][k])
		}
		rows = append(rows, [2]string{"Slot " + name, orDash(s)})
	}
	keyValues(w, rows)
}

// openBundle opens an update bundle for reading.
func openBundle(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("update install: %w", err)
	}
	if fi, err := f.Stat(); err != nil {
		f.Close()
		return nil, fmt.Errorf("update install: %w", err)
	} else if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("update install: %s is not a regular file", path)
	}
	return f, nil
}

// updateInstall is `lockctl update install FILE`: lockctl opens FILE with
// the caller's rights and hands lockd the descriptor, so lockd never opens
// a path a caller names.
func (a *app) updateInstall(ctx context.Context, c *client, f *os.File) error {
	if !c.conn.SupportsUnixFDs() {
		return errors.New("update install: this bus connection cannot pass file descriptors")
	}
	w, err := c.watchProps(ctx, ifaceUpdate)
	if err != nil {
		return err
	}
	defer w.close()
	call := c.obj.GoWithContext(ctx, ifaceUpdate+".Install", 0, make(chan *dbus.Call, 1), dbus.UnixFD(f.Fd()))
	pr := a.newProgress()
	returned := false
	for {
		select {
		case <-ctx.Done():
			pr.end()
			return fmt.Errorf("update install: interrupted; lockd may still be installing (see 'lockctl update status'): %w", ctx.Err())
		case done := <-call.Done:
			returned = true
			if done.Err != nil {
				pr.end()
				return explain(ifaceUpdate, "Install", done.Err)
			}
		case <-w.changed():
		}
		p, err := c.props(ctx, ifaceUpdate)
		if err != nil {
			pr.end()
			return err
		}
		u := newUpdateProps(p)
		pr.show(u)
		if !returned {
			continue
		}
		if !u.idle() {
			continue
		}
		pr.end()
		if err := u.installResult(); err != nil {
			return err
		}
		if a.json {
			return printJSON(a.stdout, u)
		}
		fmt.Fprintf(a.stdout, "Update installed (%s). See 'lockctl update status'.\n", orDash(u.Operation))
		return nil
	}
}

// progress shows an install's progress on stderr: one self-overwriting
// line on a terminal, a line per change of operation or tenth otherwise.
type progress struct {
	w      io.Writer
	tty    bool
	quiet  bool
	lastOp string
	lastP  int64
	drawn  bool
}

func (a *app) newProgress() *progress {
	f, ok := a.stderr.(*os.File)
	return &progress{w: a.stderr, tty: ok && term.IsTerminal(int(f.Fd())), quiet: a.json, lastP: -1}
}

func (p *progress) show(u updateProps) {
	if p.quiet || u.idle() {
		return
	}
	line := fmt.Sprintf("%s: %3d%%", sanitize(u.Operation), u.Progress)
	switch {
	case p.tty:
		fmt.Fprintf(p.w, "\r%s\x1b[K", line)
		p.drawn = true
	case u.Operation != p.lastOp || u.Progress/10 != p.lastP/10:
		fmt.Fprintln(p.w, line)
	}
	p.lastOp, p.lastP = u.Operation, u.Progress
}

func (p *progress) end() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
	"golang.org/x/term"

	"lockd.dev/lockd/dbusapi/wire"
)

// errNoUpdater is the answer of a lockd without an updater (built
// before it, or configured without one).
var errNoUpdater = errors.New("update: this lockd has no updater (io.lockd.Update1 not available)")

// cmdUpdate is `lockctl update install [--allow-downgrade] FILE|URL|status|approve|reject`.
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
	fs := a.flagSet(cmd)
	var downgrade bool
	if sub == "install" {
		fs.BoolVar(&downgrade, "allow-downgrade", false, "")
	}
	pos, err := a.parse(cmd, fs, rest, n, n)
	if err != nil {
		return err
	}
	var bundle *os.File
	url := ""
	if sub == "install" && isURL(pos[0]) {
		url = pos[0] // lockd downloads it
	} else if sub == "install" {
		// Opened first, with the caller's rights: a wrong path is reported
		// as such whatever lockd can do.
		if bundle, err = openBundle(pos[0]); err != nil {
			return err
		}
		defer bundle.Close()
	}
	c, err := a.connect(ctx)
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
		err = a.updateInstall(ctx, c, bundle, url, downgrade)
	case "status":
		err = a.updateStatus(ctx, c)
	default:
		method, done := "Approve", "approved"
		if sub == "reject" {
			method, done = "Reject", "rejected"
		}
		if err = c.call(ctx, ifaceUpdate, method, nil); err != nil {
			err = fmt.Errorf("%s: %w", cmd, err)
		} else {
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
	Pending    *pendingUpdate            `json:"pending"` // null when none
	Waiting    string                    `json:"waiting"`
	Policy     string                    `json:"policy"`
	History    []historyEntry            `json:"history"`
	// TrialCommitsAt is when a healthy trial commits; null otherwise.
	TrialCommitsAt *time.Time `json:"trial_commits_at"`
}

// pendingUpdate is Update1.Pending: an installed update not committed yet.
type pendingUpdate struct {
	Version         string     `json:"version"`
	Slot            string     `json:"slot"`
	Phase           string     `json:"phase"`
	Approved        bool       `json:"approved"`
	FromVersion     string     `json:"from_version,omitempty"`
	SecurityVersion int64      `json:"security_version,omitempty"`
	Installed       *time.Time `json:"installed,omitempty"`
}

// historyEntry is one line of Update1.History.
type historyEntry struct {
	Time    time.Time `json:"time"`
	Event   string    `json:"event"`
	Slot    string    `json:"slot,omitempty"`
	Version string    `json:"version,omitempty"`
	Detail  string    `json:"detail,omitempty"`
}

func newUpdateProps(p map[string]dbus.Variant) updateProps {
	u := updateProps{Operation: vString(p, wire.PropOperation), LastError: vString(p, wire.PropLastError),
		BootedSlot: vString(p, wire.PropBootedSlot), Waiting: vString(p, wire.PropWaiting),
		Policy: vString(p, wire.PropPolicy), Slots: map[string]map[string]any{}, History: []historyEntry{}}
	u.Progress, _ = vInt(p, wire.PropProgress)
	if at := vMicros(p, wire.PropTrialCommitsAt); !at.IsZero() {
		u.TrialCommitsAt = &at
	}
	if slots, ok := p[wire.PropSlots].Value().(map[string]map[string]dbus.Variant); ok {
		for name, d := range slots {
			u.Slots[name] = plain(d)
		}
	}
	if d, ok := p[wire.PropPending].Value().(map[string]dbus.Variant); ok && len(d) > 0 {
		pu := &pendingUpdate{Version: vString(d, wire.KeyVersion), Slot: vString(d, wire.KeyUpdateSlot),
			Phase: vString(d, wire.KeyPhase), Approved: vBool(d, wire.KeyApproved), FromVersion: vString(d, wire.KeyFromVersion)}
		pu.SecurityVersion, _ = vInt(d, wire.KeySecurityVersion)
		if n, ok := vInt(d, wire.KeyInstalled); ok && n > 0 {
			t := time.Unix(n, 0)
			pu.Installed = &t
		}
		u.Pending = pu
	}
	if list, ok := p[wire.PropHistory].Value().([]map[string]dbus.Variant); ok {
		for _, d := range list {
			h := historyEntry{Event: vString(d, wire.KeyEvent), Slot: vString(d, wire.KeyUpdateSlot),
				Version: vString(d, wire.KeyVersion), Detail: vString(d, wire.KeyDetail)}
			if n, ok := vInt(d, wire.KeyHistoryTime); ok && n > 0 {
				h.Time = time.Unix(n, 0)
			}
			u.History = append(u.History, h)
		}
	}
	return u
}

// installingOperations are the Operation values of a running install:
// the checks and the read-back (verifying), the write, the sync. Any
// other value is at rest as far as `update install` is concerned.
var installingOperations = []string{"verifying", "writing", "syncing"}

// idle reports whether no install is running.
func (u updateProps) idle() bool { return !contains(installingOperations, u.Operation) }

// installResult says how a finished install ended: an install that
// succeeded leaves an update pending (armed, or rebooting, with a reboot
// policy that does not wait); one that failed sets LastError and leaves
// none, since a new install replaces what waited.
func (u updateProps) installResult() error {
	switch {
	case u.Pending != nil:
		return nil
	case u.LastError != "":
		return fmt.Errorf("update install: %s", u.LastError)
	}
	return errors.New("update install: the install ended without a pending update (see 'lockctl update status')")
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
	writeUpdateStatus(a.stdout, u, a.painter())
	return nil
}

// slotTable lays the slots out in columns, as `rauc status` does; the
// version, the one cell of any length, comes last.
func slotTable(slots map[string]map[string]any) string {
	const row = "%-4s  %-9s  %-6s  %-9s  %s"
	lines := []string{fmt.Sprintf(row, "SLOT", "STATE", "BOOTED", "COMMITTED", "VERSION")}
	for _, name := range sortedKeys(slots) {
		d := slots[name]
		version := orDash(fmt.Sprint(d[wire.KeyVersion]))
		if d[wire.KeyVersion] == nil {
			version = "-"
		}
		if sv, ok := d[wire.KeySecurityVersion]; ok {
			version += fmt.Sprintf(" (security version %v)", sv)
		}
		state, _ := d[wire.KeyState].(string)
		lines = append(lines, fmt.Sprintf(row, name, orDash(state), yesNo(d[wire.KeyBooted]), yesNo(d[wire.KeyCommitted]), version))
	}
	return strings.Join(lines, "\n")
}

// yesNo says a boolean a slot may leave out.
func yesNo(v any) string {
	b, ok := v.(bool)
	switch {
	case !ok:
		return "-"
	case b:
		return "yes"
	}
	return "no"
}

// historyLines is how much history `update status` shows; --json has all.
const historyLines = 10

// writeUpdateStatus prints u like rauc status, in colour through p: a
// last error in red, a trial counting down in yellow.
func writeUpdateStatus(w io.Writer, u updateProps, p painter) {
	rows := [][2]string{{"Booted slot", orDash(u.BootedSlot)}, {"Operation", orDash(u.Operation)}}
	if !u.idle() {
		rows = append(rows, [2]string{"Progress", fmt.Sprintf("%d%%", u.Progress)})
	}
	if len(u.Slots) > 0 {
		rows = append(rows, [2]string{"Slots", slotTable(u.Slots)})
	}
	pending := "none"
	if p := u.Pending; p != nil {
		approved := "not approved"
		if p.Approved {
			approved = "approved"
		}
		pending = fmt.Sprintf("%s in slot %s (%s, %s)", orDash(p.Version), orDash(p.Slot), orDash(p.Phase), approved)
	}
	rows = append(rows, [2]string{"Pending", pending}, [2]string{"Reboot policy", orDash(u.Policy)})
	// A healthy trial counts down to its commit; Waiting would say the
	// same moment again, in UTC.
	if at := u.TrialCommitsAt; at != nil {
		rows = append(rows, [2]string{"Trial", fmt.Sprintf("commits in %s, at %s, if lockd stays healthy",
			seconds(max(0, time.Until(*at).Round(time.Second))), at.Local().Format("15:04:05"))})
	} else if u.Waiting != "" {
		rows = append(rows, [2]string{"Waiting for", u.Waiting})
	}
	rows = append(rows, [2]string{"Last error", orNone(u.LastError)})
	if len(u.History) > 0 {
		var lines []string
		for _, h := range u.History[max(0, len(u.History)-historyLines):] {
			lines = append(lines, h.String())
		}
		rows = append(rows, [2]string{"History", strings.Join(lines, "\n")})
	}
	keyValues(w, rows, p, func(key string, _ int) colour {
		switch {
		case key == "Last error" && u.LastError != "":
			return red
		case key == "Trial":
			return yellow
		}
		return noColour
	})
}

// String is the entry as one line: "2026-11-25 12:00:05  installed  B 2.0.0".
func (h historyEntry) String() string {
	t := "-"
	if !h.Time.IsZero() {
		t = h.Time.Local().Format(timeLayout)
	}
	s := fmt.Sprintf("%s  %-12s %-1s %s", t, h.Event, orDash(h.Slot), orDash(h.Version))
	if h.Detail != "" {
		s += ": " + h.Detail
	}
	return s
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

// isURL says whether `update install` was given a URL for lockd to
// download rather than a file.
func isURL(arg string) bool {
	return strings.HasPrefix(arg, "https://") || strings.HasPrefix(arg, "http://")
}

// updateInstall is `lockctl update install [--allow-downgrade] FILE|URL`:
// lockctl opens FILE with the caller's rights and hands lockd the
// descriptor, so lockd never opens a path a caller names; a URL lockd
// downloads itself (Update1.InstallFromURL).
func (a *app) updateInstall(ctx context.Context, c *client, f *os.File, url string, downgrade bool) error {
	if url == "" && !c.conn.SupportsUnixFDs() {
		return errors.New("update install: this bus connection cannot pass file descriptors")
	}
	w, err := c.watchProps(ctx, ifaceUpdate)
	if err != nil {
		return err
	}
	defer w.close()
	opts := map[string]dbus.Variant{}
	if downgrade {
		opts[wire.OptAllowDowngrade] = dbus.MakeVariant(true)
	}
	var method string
	var args []any
	switch {
	case url != "":
		method, args = "InstallFromURL", []any{url, opts}
	case downgrade:
		method, args = "InstallWithOptions", []any{dbus.UnixFD(f.Fd()), opts}
	default:
		method, args = "Install", []any{dbus.UnixFD(f.Fd())}
	}
	call := c.obj.GoWithContext(ctx, ifaceUpdate+"."+method, 0, make(chan *dbus.Call, 1), args...)
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
				return fmt.Errorf("update install: %w", explain(ifaceUpdate, method, done.Err))
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
		if !returned || !u.idle() {
			continue
		}
		if err := u.installResult(); err != nil {
			pr.end()
			return err
		}
		pr.done()
		if a.json {
			return printJSON(a.stdout, u)
		}
		next := "See 'lockctl update status'."
		if u.Waiting != "" {
			next = "It waits for " + u.Waiting + "."
		}
		fmt.Fprintf(a.stdout, "Update %s installed in slot %s (%s). %s\n", u.Pending.Version, u.Pending.Slot, orDash(u.Operation), next)
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
	p.draw(sanitize(u.Operation), u.Progress)
}

// draw shows one step: a bar redrawn in place on a terminal, a line per
// operation or tenth otherwise.
func (p *progress) draw(op string, pct int64) {
	switch {
	case p.tty:
		fmt.Fprintf(p.w, "\r%s\x1b[K", progressBar(op, pct))
		p.drawn = true
	case op != p.lastOp || pct/10 != p.lastP/10:
		fmt.Fprintf(p.w, "%s: %3d%%\n", op, pct)
	}
	p.lastOp, p.lastP = op, pct
}

// done shows the finished install at 100 %: the last progress lockd
// reports is the read-back's, short of it.
func (p *progress) done() {
	if !p.quiet {
		p.draw("installed", 100)
	}
	p.end()
}

// barWidth is the bar's length in characters.
const barWidth = 30

// progressBar is "writing    [#########---------------]  30%".
func progressBar(op string, pct int64) string {
	pct = min(max(pct, 0), 100)
	n := int(pct) * barWidth / 100
	return fmt.Sprintf("%-10s [%s%s] %3d%%", op, strings.Repeat("#", n), strings.Repeat("-", barWidth-n), pct)
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

package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// The GPIO scenarios: lockd without --sim on the guest kernel's GPIO
// character device, through periph.io's gpioioctl driver, on the
// kernel's gpio-sim chip with the Pi's line names; the world around the
// lock is e2e-guest board (guest/e2e-guest/world.go), acting only
// through gpio-sim's sysfs pull and value files.

// setBoard gives u a GPIO board from its next power-on: board is the
// shell fragment guest/init reads (E2E_KEYPAD, E2E_WORLD, E2E_HOLD).
func (u *unit) setBoard(board string) {
	u.t.Helper()
	f := filepath.Join(u.dir, "e2e-board")
	writeFile(u.t, f, []byte(board), 0o644)
	run(u.t, "mcopy", "-o", "-i", u.fatImage(), f, "::e2e-board")
}

// boardLib is prepended to the GPIO scenarios' scripts (after guestLib).
const boardLib = `
b() { e2e-guest board "$@"; }
ls_() { echo "E2E-LOCK $(lockctl --json status | tr -d '\n')"; }
world() { echo "E2E-WORLD $(b state)"; }
# mark, then wait_event KIND: until lockd signals Event(KIND) after the
# mark (e2e-guest watch appends every kind to /run/e2e-events), 60 s.
mark() { m=$(cat /run/e2e-events 2>/dev/null | wc -l); }
wait_event() {
	i=0
	while [ $i -lt 300 ]; do
		tail -n +$((m + 1)) /run/e2e-events 2>/dev/null | grep -qx "$1" && return 0
		sleep 0.2
		i=$((i + 1))
	done
	echo "E2E-TIMEOUT waiting for event $1"
	return 1
}
`

// The codes the GPIO scenarios set and type.
const (
	hwAdmin = "13579024"
	hwCode  = "24681357"
)

// provision sets the admin code and adds hwCode over D-Bus, as an owner
// would with lockctl.
const provision = `echo ` + hwAdmin + ` | lockctl setup; echo "E2E-SETUP rc=$?"
echo ` + hwCode + ` | lockctl code add --label e2e; echo "E2E-ADD rc=$?"
`

// 7. The lock on the kernel's GPIO uAPI with a Wiegand keypad, in one
// power cycle: lockd's state at READY is the bolt read from real lines;
// a wrong code does not open; the right one drives the H-bridge until
// the limit switch stops it; with the door open the door guard holds the
// bolt back until it closes; a jam is detected and backed off.
func gpioWiegand(t *testing.T, u *unit) {
	u.setBoard("E2E_KEYPAD=wiegand\nE2E_WORLD=\"--bolt unlocked\"\n")
	script := boardLib + `ls_
world
lockctl lock; echo "E2E-LOCK-RC $?"
ls_
world
` + provision + `mark
b keys 11223344#
wait_event denied
ls_
world
mark
b keys ` + hwCode + `#
wait_event unlocked
ls_
world
mark
b door open
wait_event door-open
lockctl lock; echo "E2E-GUARD-RC $?"
world
mark
b door closed
wait_event locked
ls_
world
mark
b jam on
b keys ` + hwCode + `#
wait_event jammed
ls_
world
b history | sed 's/^/E2E-HIST /'
poweroff -f`
	// A busy host makes the board type keys again, each time that it
	// cannot tell waiting out lockd's 5 s entry timeout: a longer bound.
	c := u.powerOn(script, nil, 2*cycleTimeout)
	wantBoot(t, c, "A", false, "1.0.0")
	if _, ok := c.marker("E2E-BOARD-UP "); !ok {
		t.Fatalf("no GPIO board in the guest\n%s", c.console)
	}
	if _, ok := c.marker("E2E-TIMEOUT"); ok {
		t.Fatalf("the guest timed out\n%s", c.console)
	}
	st, world := lockStates(t, c), c.all("E2E-WORLD ")
	wantMarker(t, c, "E2E-LOCK-RC ", "0")
	wantMarker(t, c, "E2E-SETUP ", "rc=0")
	wantMarker(t, c, "E2E-ADD ", "rc=0")
	if len(st) != 6 || len(world) != 7 {
		t.Fatalf("%d statuses and %d world states, want 6 and 7\n%s", len(st), len(world), c.console)
	}
	steps := []struct{ what, state, world string }{
		{"at READY, the bolt at the unlocked end", "unlocked", "bolt=unlocked door=closed jam=false lock=0 unlock=0"},
		{"after lockctl lock", "locked", "bolt=locked door=closed jam=false lock=0 unlock=0"},
		{"after a wrong code", "locked", "bolt=locked door=closed jam=false lock=0 unlock=0"},
		{"after the right code", "unlocked", "bolt=unlocked door=closed jam=false lock=0 unlock=0"},
		{"after the door closed on a pending lock", "locked", "bolt=locked door=closed jam=false lock=0 unlock=0"},
		{"after a jam", "jammed", "bolt=locked door=closed jam=true lock=0 unlock=0"},
	}
	wi := []int{0, 1, 2, 3, 5, 6}
	for i, s := range steps {
		if st[i] != s.state {
			t.Errorf("%s: lockd says %q, want %q", s.what, st[i], s.state)
		}
		if !strings.HasPrefix(world[wi[i]], s.world) {
			t.Errorf("%s: the world is %q, want %q…", s.what, world[wi[i]], s.world)
		}
	}
	if rc, _ := c.marker("E2E-GUARD-RC "); rc == "0" {
		t.Errorf("lockctl lock with the door open succeeded")
	}
	if !strings.HasPrefix(world[4], "bolt=unlocked door=open") {
		t.Errorf("with the door open after lockctl lock the world is %q, want the bolt still unlocked", world[4])
	}
	wantHistory(t, c)
	if t.Failed() {
		t.Logf("console:\n%s", c.console)
	}
}

// lockStates are the bolt states of the E2E-LOCK statuses, in order.
func lockStates(t *testing.T, c *cycle) []string {
	t.Helper()
	var out []string
	for _, l := range c.all("E2E-LOCK ") {
		var s struct {
			State string `json:"state"`
		}
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("lockctl --json status %q: %v", l, err)
		}
		out = append(out, s.State)
	}
	return out
}

// all returns the rest of every console line holding m.
func (c *cycle) all(m string) []string {
	var out []string
	for _, l := range c.lines {
		if i := strings.Index(l, m); i >= 0 {
			out = append(out, strings.TrimSpace(l[i+len(m):]))
		}
	}
	return out
}

// wantHistory checks what the world saw lockd do on its outputs, in
// order: the H-bridge never drove both ways at once and every move
// ended with the motor off; the wrong code moved nothing; the door guard
// kept the lock line off while the door was open.
func wantHistory(t *testing.T, c *cycle) {
	t.Helper()
	var moves []string
	on := map[string]bool{}
	doorOpen := false
	for _, h := range c.all("E2E-HIST ") {
		f := strings.Fields(h)
		if len(f) != 2 {
			continue
		}
		k, v, _ := strings.Cut(f[1], "=")
		switch k {
		case "lock", "unlock":
			on[k] = v == "1"
			if on["lock"] && on["unlock"] {
				t.Errorf("the H-bridge drove both ways at once (history %q)", h)
			}
			if k == "lock" && v == "1" && doorOpen {
				t.Errorf("the lock line went active with the door open")
			}
			moves = append(moves, f[1])
		case "bolt":
			moves = append(moves, f[1])
		case "door":
			doorOpen = v == "open"
		}
	}
	// lock (READY unlocked -> locked); the right code; the pending lock
	// after the door closed; the jam: toward unlocked, stopped at the
	// obstacle, then backed off toward locked.
	want := "lock=1 bolt=locked lock=0 unlock=1 bolt=unlocked unlock=0 lock=1 bolt=locked lock=0 unlock=1 unlock=0 lock=1 bolt=locked lock=0"
	if got := strings.Join(moves, " "); got != want {
		t.Errorf("motor and bolt history:\n got %s\nwant %s", got, want)
	}
}

// 8. A pin another program holds, and the matrix keypad on the uAPI. A
// user-space world cannot couple a row to a column at scan speed (the
// scanner drives a row and reads the columns microseconds later; the
// world sees the row only by reading gpio-sim's value file), so a key
// press is not simulated. What is covered: a column pulled low while
// lockd is idle reaches the scanner as an edge through the kernel; the
// scan then reads that column low on every row, a 4-key chord, which
// the scanner refuses as it must.
func gpioMatrix(t *testing.T, u *unit) {
	u.setBoard("E2E_KEYPAD=matrix\nE2E_HOLD=GPIO16\n")
	c := u.powerOn("", func(l string) bool { return strings.Contains(l, "lockd: board:") }, cycleTimeout)
	if _, ok := c.marker("E2E-HOLD GPIO16"); !ok || !c.cut {
		t.Fatalf("want lockd to stop on the held pin GPIO16\n%s", c.console)
	}
	refusal := strings.TrimSpace(c.cutLine)
	if !strings.Contains(refusal, "GPIO16") || !strings.Contains(refusal, "busy") || strings.Contains(refusal, "{") {
		t.Errorf("lockd's error does not name the held pin plainly: %q", refusal)
	}
	t.Logf("with GPIO16 held: %s", refusal)

	u.setBoard("E2E_KEYPAD=matrix\n")
	chord := "several keys down at once"
	c = u.powerOn(boardLib+"ls_\nb column 1 low\nsleep 60; poweroff -f", func(l string) bool { return strings.Contains(l, chord) }, cycleTimeout)
	if !c.cut {
		t.Fatalf("no chord from the scanner after a column went low\n%s", c.console)
	}
	if !strings.Contains(c.cutLine, "count=4") {
		t.Errorf("scanner: %q, want a 4-key chord (the column low on each of the 4 rows)", c.cutLine)
	}
	if st := lockStates(t, c); len(st) != 1 || st[0] != "locked" {
		t.Errorf("lockd's state at READY %v, want locked (the world's bolt)", st)
	}
}

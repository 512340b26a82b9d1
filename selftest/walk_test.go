package selftest_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	pgpio "periph.io/x/conn/v3/gpio"

	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/internal/board"
	"lockd.dev/lockd/internal/config"
	"lockd.dev/lockd/selftest"
	"lockd.dev/lockd/selftest/siminstaller"
)

// rig is a simulated lock wired as cfg says, with an installer at it.
type rig struct {
	board *sim.Board
	cfg   config.Config
	in    *siminstaller.Installer
}

// newRig builds the board for kind (a change of config.Default's keypad
// and bolt type), then lets rewire change the configuration, as a wiring
// mistake would.
func newRig(t *testing.T, kind func(*config.Config), rewire func(*config.Config)) *rig {
	t.Helper()
	c := config.Default()
	if kind != nil {
		kind(&c)
	}
	// A short travel keeps the motor steps quick; the walk's own budget
	// (opts.Travel) is many times longer, so no timing decides a verdict.
	b, c, err := board.NewSim(c, sim.BoardConfig{Travel: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if rewire != nil {
		rewire(&c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return &rig{board: b, cfg: c, in: siminstaller.New(ctx, b)}
}

var opts = selftest.Options{OnTime: time.Millisecond, Settle: time.Millisecond, Pulse: 20 * time.Millisecond,
	Travel: 2 * time.Second, StepTimeout: 3 * time.Second}

// walk runs the walk and checks that it left every output off.
func (r *rig) walk(t *testing.T, o selftest.Options) selftest.Report {
	t.Helper()
	b, err := selftest.FromConfig(r.cfg, r.board.ByName, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := selftest.Run(context.Background(), b, r.in, o)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep.WriteTo(&out)
	t.Logf("report:\n%s", out.String())
	for _, o := range []*sim.Output{r.board.Green, r.board.Red, r.board.Buzzer} {
		if o.On() {
			t.Errorf("%s left on", o.Pin())
		}
	}
	if r.board.Strike != nil && r.board.Strike.Unlocked() {
		t.Error("strike left energised")
	}
	if r.board.Motor != nil && (r.board.Motor.Moving() != 0 || r.board.Motor.ShortCircuit()) {
		t.Errorf("motor moving %d, short circuit %v", r.board.Motor.Moving(), r.board.Motor.ShortCircuit())
	}
	return rep
}

// want checks the status of each named pin.
func want(t *testing.T, rep selftest.Report, status map[string]selftest.Status) {
	t.Helper()
	for key, s := range status {
		res, ok := rep.Find(key)
		if !ok {
			t.Errorf("%s: not in the report", key)
		} else if res.Status != s {
			t.Errorf("%s: %s (%v), want %s", key, res.Status, res.Notes, s)
		}
	}
}

func TestWalkGoodBoard(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil, nil)
	rep := r.walk(t, opts)
	if !rep.OK() {
		t.Error("a correctly wired board is not OK")
	}
	for _, res := range rep.Results {
		for _, n := range res.Notes {
			if strings.Contains(n, "not read") {
				t.Errorf("%s: %s", res.Key, n)
			}
		}
	}
	if len(rep.Results) != 4+3+4+1+3 {
		t.Errorf("%d pins in the report, want every configured one (15)", len(rep.Results))
	}
	if r.board.Door.IsOpen() {
		t.Error("the installer was left with the door open")
	}
}

func TestWalkWiegandAndStrike(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(c *config.Config) { c.Keypad.Type, c.Bolt.Type = "wiegand", "strike" }, nil)
	rep := r.walk(t, opts)
	if !rep.OK() {
		t.Error("a correctly wired Wiegand keypad and strike are not OK")
	}
	want(t, rep, map[string]selftest.Status{"keypad.d0": selftest.OK, "bolt.strike_pin": selftest.OK})
}

// TestWalkSwappedRows: rows 1 and 2 go to each other's pins, so 1 reads
// as 4. The rows are miswired, the columns are not.
func TestWalkSwappedRows(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil, func(c *config.Config) { c.Keypad.Rows[0], c.Keypad.Rows[1] = c.Keypad.Rows[1], c.Keypad.Rows[0] })
	want(t, r.walk(t, opts), map[string]selftest.Status{
		"keypad.rows[0]": selftest.Miswired, "keypad.rows[1]": selftest.Miswired,
		"keypad.rows[2]": selftest.OK, "keypad.cols[0]": selftest.OK, "keypad.cols[1]": selftest.OK,
	})
}

// TestWalkDeadColumn: nothing in the middle column works (the installer
// gives up on each of its keys): that column did not change, every other
// line is fine.
func TestWalkDeadColumn(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil, nil)
	r.in.SkipKeys, r.in.NoDoor = "2580", true
	want(t, r.walk(t, opts), map[string]selftest.Status{
		"keypad.cols[1]": selftest.NoChange, "keypad.cols[0]": selftest.OK, "keypad.rows[0]": selftest.OK,
		"door.pin": selftest.NoChange,
	})
}

// TestWalkJam: an obstacle at mid-travel. The bolt leaves the unlocked end
// but never reaches the locked one; the walk stops within its budget and
// brings it back.
func TestWalkJam(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil, nil)
	if err := r.board.SetJam(true); err != nil {
		t.Fatal(err)
	}
	o := opts
	o.Travel, o.Pulse = 300*time.Millisecond, 100*time.Millisecond
	want(t, r.walk(t, o), map[string]selftest.Status{
		"bolt.lock_pin": selftest.OK, "bolt.limit_locked": selftest.NoChange,
		"bolt.unlock_pin": selftest.OK, "bolt.limit_unlocked": selftest.OK,
	})
	if r.board.Motor.Position() != sim.BoltUnlocked {
		t.Errorf("bolt left at %v, want back at the unlocked end", r.board.Motor.Position())
	}
}

// TestWalkLEDShortedToDoor: the green LED's line also reaches the door
// sensor's, which reads the LED instead of the reed while the LED is on.
func TestWalkLEDShortedToDoor(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil, nil)
	r.board.SetDoor(true) // open: the reed lets the line float up
	door := r.board.Door
	r.board.Green.Notify(func(on bool) {
		if on {
			door.Pin().Drive(pgpio.Low)
		} else {
			door.SetOpen(door.IsOpen()) // the reed's own level again
		}
	})
	want(t, r.walk(t, opts), map[string]selftest.Status{
		"indicators.led_green": selftest.Shorted, "door.pin": selftest.Shorted, "indicators.led_red": selftest.OK,
	})
}

// TestWalkBothSwitchesClosed: both limit switch inputs read closed (wired
// to the same switch): the motor is never driven.
func TestWalkBothSwitchesClosed(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil, func(c *config.Config) { c.Bolt.LimitLocked = "DOOR"; c.Door.Pin = "" })
	moved := make(chan struct{}, 1)
	m := r.board.Motor
	m.Notify(func() {
		if m.Moving() != 0 {
			select {
			case moved <- struct{}{}:
			default:
			}
		}
	})
	want(t, r.walk(t, opts), map[string]selftest.Status{
		"bolt.limit_locked": selftest.Stuck, "bolt.limit_unlocked": selftest.Stuck,
		"bolt.lock_pin": selftest.Skipped, "bolt.unlock_pin": selftest.Skipped,
	})
	select {
	case <-moved:
		t.Error("the motor was driven")
	default:
	}
}

package lock_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/internal/clock/clocktest"
	"lockd.dev/lockd/lock"
	"lockd.dev/lockd/lock/locktest"
)

// fakeIndicator records what the core shows.
type fakeIndicator struct {
	shown []gpio.Pattern
	bg    gpio.Pattern
	beeps []int
}

func (f *fakeIndicator) Show(p gpio.Pattern)          { f.shown = append(f.shown, p) }
func (f *fakeIndicator) Beeps(n int)                  { f.beeps = append(f.beeps, n) }
func (f *fakeIndicator) SetBackground(p gpio.Pattern) { f.bg = p }

func TestIndicatorPatterns(t *testing.T) {
	ind := &fakeIndicator{}
	codes := locktest.NewCodes("")
	codes.Setup = "48151623"
	clk := clocktest.NewFake(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	c, err := lock.New(lock.Config{Keypad: nopKeypad{}, Bolt: &locktest.Bolt{Pos: gpio.PosLocked},
		Codes: codes, Indicator: ind, Clock: clk, Log: discard()})
	if err != nil {
		t.Fatal(err)
	}
	c.Prime(context.Background())
	if ind.bg != gpio.PatternUnprovisioned {
		t.Errorf("background %v on an unprovisioned unit", ind.bg)
	}
	step := func(keys string, want ...gpio.Pattern) {
		t.Helper()
		ind.shown = nil
		c.StepKeys(keys)
		var got []gpio.Pattern
		for _, p := range ind.shown {
			if p != gpio.PatternKey {
				got = append(got, p)
			}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%q: patterns (-want +got):\n%s", keys, d)
		}
	}
	step("2580#", gpio.PatternUnprovisioned)
	step("*48151623#", gpio.PatternProgrammingStep)
	if ind.bg != gpio.PatternProgramming {
		t.Errorf("background %v in setup", ind.bg)
	}
	step("246813#", gpio.PatternProgrammingStep)
	step("246813#", gpio.PatternGranted)
	if ind.bg != gpio.PatternIdle {
		t.Errorf("background %v after setup", ind.bg)
	}
	step("*246813#14826#4826#", gpio.PatternProgrammingStep, gpio.PatternProgrammingStep)
	if d := cmp.Diff([]int{1}, ind.beeps); d != "" {
		t.Errorf("slot beeps (-want +got):\n%s", d)
	}
	step("#")
	step("4826#", gpio.PatternGranted)
	for i := 0; i < 4; i++ {
		step("1111#", gpio.PatternDenied)
	}
	step("1111#", gpio.PatternLockedOut)
	if ind.bg != gpio.PatternLockedOut {
		t.Errorf("background %v during a lockout", ind.bg)
	}
}

// TestWarningOnLEDs: a health warning from outside the core (an update
// rolled back, D-Bus down) shows as the error pattern at the next poll,
// and goes when it is cleared; a key press is recorded in Status.
func TestWarningOnLEDs(t *testing.T) {
	ind := &fakeIndicator{}
	codes := locktest.NewCodes("1234")
	clk := clocktest.NewFake(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	c, err := lock.New(lock.Config{Keypad: nopKeypad{}, Bolt: &locktest.Bolt{Pos: gpio.PosLocked},
		Codes: codes, Indicator: ind, Clock: clk, Log: discard()})
	if err != nil {
		t.Fatal(err)
	}
	c.Prime(context.Background())
	if ind.bg != gpio.PatternIdle {
		t.Fatalf("background %v", ind.bg)
	}
	c.SetWarning("update", "update 2.1.0 rolled back after 3 failed boots of slot B")
	c.StepPoll()
	if ind.bg != gpio.PatternError {
		t.Fatalf("background %v with a warning", ind.bg)
	}
	c.SetWarning("update", "")
	c.StepPoll()
	if ind.bg != gpio.PatternIdle {
		t.Fatalf("background %v after the warning cleared", ind.bg)
	}
	if !c.Status().LastKey.IsZero() {
		t.Fatal("LastKey set before any key")
	}
	clk.Advance(time.Minute)
	c.StepKeys("1")
	if got := c.Status().LastKey; !got.Equal(clk.Now()) {
		t.Fatalf("LastKey %v, want %v", got, clk.Now())
	}
}

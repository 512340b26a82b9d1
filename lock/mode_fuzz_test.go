package lock_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/internal/clock/clocktest"
	"lockd.dev/lockd/lock"
	"lockd.dev/lockd/lock/locktest"
)

// FuzzParseOperatingMode: only the five names parse; anything else is
// ErrBadMode naming the modes and quoting at most a bounded piece of the
// input (seeds in testdata/fuzz/FuzzParseOperatingMode).
func FuzzParseOperatingMode(f *testing.F) {
	for _, m := range lock.OperatingModes() {
		f.Add(string(m))
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := lock.ParseOperatingMode(s)
		known := false
		for _, k := range lock.OperatingModes() {
			known = known || string(k) == s
		}
		checkParse(t, s, string(m), err, known, lock.ErrBadMode, "normal, vacation, privacy, no-remote, passage")
	})
}

// FuzzParseAlarm: the same for alarm names (testdata/fuzz/FuzzParseAlarm).
func FuzzParseAlarm(f *testing.F) {
	for _, a := range lock.Alarms() {
		f.Add(string(a))
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := lock.ParseAlarm(s)
		known := false
		for _, k := range lock.Alarms() {
			known = known || string(k) == s
		}
		checkParse(t, s, string(a), err, known, lock.ErrBadAlarm, "forced-open, ajar, tamper, jammed, wrong-entry-limit, power")
	})
}

func checkParse(t *testing.T, in, got string, err error, known bool, sentinel error, list string) {
	t.Helper()
	switch {
	case known && (err != nil || got != in):
		t.Fatalf("%q: got %q, %v", in, got, err)
	case !known && (!errors.Is(err, sentinel) || got != ""):
		t.Fatalf("%q: got %q, %v; want %v", in, got, err, sentinel)
	case !known && !strings.Contains(err.Error(), list):
		t.Fatalf("%q: %v does not list %s", in, err, list)
	case !known && len(err.Error()) > len(list)+500: // 40 runes quoted at most
		t.Fatalf("%q: the error quotes too much of the input (%d bytes)", in, len(err.Error()))
	}
}

// FuzzKeypadModes types arbitrary sequences at a lock with a state store
// and checks that without the admin code the operating mode never
// changes and the bolt never unlocks without a granted entry (passage,
// "9 4 #", is the one unlock without one, and it needs programming mode).
func FuzzKeypadModes(f *testing.F) {
	for _, s := range []string{"*135790#94#", "*135790#92#2580#", "*135790#91##2580#", "94#", "*94#", "9#4#"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 400 {
			return
		}
		codes := locktest.NewCodes("135790", "2580")
		bolt := &locktest.Bolt{Pos: gpio.PosLocked}
		clk := clocktest.NewFake(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
		c, err := lock.New(lock.Config{Keypad: nopKeypad{}, Bolt: bolt, Codes: codes, States: locktest.NewStates(),
			Clock: clk, Log: discard()})
		if err != nil {
			t.Fatal(err)
		}
		c.Prime(context.Background())
		typeFuzz(c, clk, in)
		grants, admin := granted(codes)
		if admin {
			return
		}
		if m := c.Status().OperatingMode; m != lock.ModeNormal {
			t.Fatalf("mode %q without the admin code", m)
		}
		if _, unlocks := bolt.Counts(); unlocks > grants {
			t.Fatalf("bolt unlocked %d times with %d granted entries", unlocks, grants)
		}
	})
}

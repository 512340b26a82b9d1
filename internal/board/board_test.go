package board

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	pgpio "periph.io/x/conn/v3/gpio"

	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/internal/config"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestBuildOnSimBoard(t *testing.T) {
	for _, kind := range []struct{ keypad, bolt string }{{"matrix", "motor"}, {"wiegand", "strike"}} {
		c := config.Default()
		c.Keypad.Type, c.Bolt.Type = kind.keypad, kind.bolt
		b, err := sim.NewBoard(sim.BoardConfig{Wiegand: kind.keypad == "wiegand", Strike: kind.bolt == "strike"})
		if err != nil {
			t.Fatal(err)
		}
		h, err := Build(SimConfig(c, 4, 3), b.ByName, quiet())
		if err != nil {
			t.Fatalf("%v: %v", kind, err)
		}
		if h.Keypad() == nil || h.Bolt() == nil || h.Door == nil || h.Indicators == nil {
			t.Errorf("%v: missing drivers: %+v", kind, h)
		}
	}
}

func TestBuildNamesMissingAndDuplicatePins(t *testing.T) {
	b, err := sim.NewBoard(sim.BoardConfig{})
	if err != nil {
		t.Fatal(err)
	}
	c := SimConfig(config.Default(), 4, 3)
	c.Bolt.LockPin = "GPIO17"
	c.Door.Pin = "KP_COL0"
	_, err = Build(c, b.ByName, quiet())
	if err == nil {
		t.Fatal("Build accepted a missing and a doubly used pin")
	}
	for _, want := range []string{"pin GPIO17 (bolt.lock_pin) not found", "pin KP_COL0 is used by both keypad.cols[0] and door.pin", "board: "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// TestBuildOnMachineWithoutGPIO: what a real lockd does on a host with no
// GPIO chips (gpioreg.ByName returns nil for everything): a clear error
// naming the first keys, and no driver touched.
func TestBuildOnMachineWithoutGPIO(t *testing.T) {
	c, err := config.Load("../../systemd/lockd.toml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Build(c, func(string) pgpio.PinIO { return nil }, quiet())
	if err == nil || !strings.Contains(err.Error(), "pin GPIO17 (keypad.rows[0]) not found") {
		t.Fatalf("err = %v", err)
	}
}

package gpio_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/gpio/sim"
)

const doorDebounce = 30 * time.Millisecond

type doorRig struct {
	sim     *sim.Door
	drv     *gpio.Door
	changes chan bool
	cancel  context.CancelFunc
	done    chan error
}

func startDoor(t *testing.T, simOpts []sim.DoorOption, cfg gpio.DoorConfig) *doorRig {
	t.Helper()
	r := &doorRig{sim: sim.NewDoor(simOpts...), changes: make(chan bool), done: make(chan error, 1)}
	cfg.Pin, cfg.Debounce = r.sim.Pin(), doorDebounce
	drv, err := gpio.NewDoor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.drv = drv
	ctx, cancel := context.WithCancel(t.Context())
	r.cancel = cancel
	go func() { r.done <- drv.Run(ctx, r.changes) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("Run = %v, want nil on cancel", err)
			}
		case <-time.After(10 * time.Second): // a generous bound: no timing is tested here
			t.Error("Run did not return after cancel")
		}
	})
	return r
}

// doorExpect waits for the next change and checks it.
func doorExpect(t *testing.T, r *doorRig, open bool) time.Time {
	t.Helper()
	select {
	case got := <-r.changes:
		if got != open {
			t.Fatalf("change = open %t, want %t", got, open)
		}
	case <-time.After(time.Second):
		t.Fatalf("no change to open %t", open)
	}
	return time.Now()
}

func TestDoorChanges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		simOpts []sim.DoorOption
		cfg     gpio.DoorConfig
	}{
		{"default", nil, gpio.DoorConfig{}},
		{"active-low", []sim.DoorOption{sim.DoorActiveLow()}, gpio.DoorConfig{ActiveLow: true}},
		{"open when active", []sim.DoorOption{sim.DoorOpenWhenActive()}, gpio.DoorConfig{OpenWhenActive: true}},
		{"both", []sim.DoorOption{sim.DoorOpenWhenActive(), sim.DoorActiveLow()},
			gpio.DoorConfig{OpenWhenActive: true, ActiveLow: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startDoor(t, tt.simOpts, tt.cfg)
			doorExpect(t, r, false) // the state at start
			if r.drv.Open() {
				t.Fatal("Open() = true for a closed door")
			}
			opened := time.Now()
			r.sim.SetOpen(true)
			if at := doorExpect(t, r, true); at.Sub(opened) < doorDebounce {
				t.Errorf("reported after %s, before the debounce time", at.Sub(opened))
			}
			if !r.drv.Open() {
				t.Error("Open() = false after the change")
			}
			r.sim.SetOpen(false)
			doorExpect(t, r, false)
		})
	}
}

func TestDoorDebounce(t *testing.T) {
	t.Parallel()
	r := startDoor(t, nil, gpio.DoorConfig{})
	doorExpect(t, r, false)

	// A bouncing contact that settles open is one change.
	for _, open := range []bool{true, false, true, false, true} {
		r.sim.SetOpen(open)
	}
	doorExpect(t, r, true)

	// A glitch shorter than the debounce time is none: the first change
	// after it is the real one. Debouncing is about time, so this waits.
	r.sim.SetOpen(false)
	r.sim.SetOpen(true)
	time.Sleep(3 * doorDebounce)
	if !r.drv.Open() {
		t.Fatal("a glitch changed the debounced state")
	}
	r.sim.SetOpen(false)
	doorExpect(t, r, false)
}

func TestDoorOpenWithoutRun(t *testing.T) {
	d := sim.NewDoor()
	drv, err := gpio.NewDoor(gpio.DoorConfig{Pin: d.Pin()})
	if err != nil {
		t.Fatal(err)
	}
	if drv.Open() {
		t.Error("Open() = true for a closed door")
	}
	d.SetOpen(true)
	if !drv.Open() {
		t.Error("Open() = false for an open door")
	}
}

func TestDoorRunTwice(t *testing.T) {
	t.Parallel()
	r := startDoor(t, nil, gpio.DoorConfig{})
	doorExpect(t, r, false)
	err := r.drv.Run(t.Context(), make(chan bool))
	if err == nil || !strings.HasPrefix(err.Error(), "gpio: door:") {
		t.Fatalf("second Run = %v, want a gpio: door: error", err)
	}
}

func TestDoorConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  gpio.DoorConfig
		want string
	}{
		{"no pin", gpio.DoorConfig{}, "gpio: door: sensor pin is required"},
		{"negative debounce", gpio.DoorConfig{Pin: sim.NewPin("D", -1), Debounce: -1}, "gpio: door: negative debounce"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := gpio.NewDoor(tt.cfg); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("NewDoor = %v, want %q", err, tt.want)
			}
		})
	}
}

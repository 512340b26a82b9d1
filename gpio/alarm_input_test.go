package gpio_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/gpio/sim"
)

// TestAlarmInput: a tamper switch (closed while the case is shut) reads
// normal; opening the case reads as the alarm once it has held for the
// debounce time; a bounce shorter than that is not reported; closing it
// again is normal.
func TestAlarmInput(t *testing.T) {
	sw := sim.NewSwitch("TAMPER", true)
	in, err := gpio.NewAlarmInput(gpio.AlarmInputConfig{Name: "tamper", Pin: sw.Pin(), ActiveLow: true, Debounce: doorDebounce})
	if err != nil {
		t.Fatal(err)
	}
	if in.Alarm() {
		t.Fatal("a closed tamper switch reads as an alarm")
	}
	changes := make(chan bool)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx, changes) }()
	expect := func(want bool) {
		t.Helper()
		select {
		case got := <-changes:
			if got != want {
				t.Fatalf("change: alarm %t, want %t", got, want)
			}
		case <-time.After(2 * time.Second): // a bound for a hung driver, not a speed
			t.Fatalf("no change to alarm %t", want)
		}
	}
	expect(false) // the state at start
	sw.SetClosed(false)
	sw.SetClosed(true) // a bounce
	sw.SetClosed(false)
	expect(true)
	if !in.Alarm() {
		t.Error("Alarm() false while the case is open")
	}
	sw.SetClosed(true)
	expect(false)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v on cancel, want nil", err)
	}
}

// TestAlarmInputCutWire: with nothing driving the line (a cut wire) the
// driver's pull makes the input read as the alarm.
func TestAlarmInputCutWire(t *testing.T) {
	sw := sim.NewSwitch("POWER_GOOD", true)
	sw.SetClosed(false)
	in, err := gpio.NewAlarmInput(gpio.AlarmInputConfig{Name: "power", Pin: sw.Pin(), ActiveLow: true})
	if err != nil {
		t.Fatal(err)
	}
	if !in.Alarm() {
		t.Error("a released line reads as normal")
	}
}

func TestAlarmInputNeedsAPin(t *testing.T) {
	_, err := gpio.NewAlarmInput(gpio.AlarmInputConfig{Name: "tamper"})
	if err == nil || !strings.HasPrefix(err.Error(), "gpio: tamper: ") {
		t.Errorf("no pin: %v, want an error naming the tamper input", err)
	}
}

package gpio

import (
	"context"
	"errors"
	"strings"
	"testing"

	pgpio "periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// errBusy is what the kernel answers for a line another process holds.
var errBusy = errors.New("line_request ioctl: device or resource busy")

// heldPin is a line another process holds, printing itself as periph.io's
// gpioioctl lines do: a JSON object over several lines.
type heldPin struct{ gpiotest.Pin }

func (p *heldPin) String() string {
	return "{\n    \"Line\": 16,\n    \"Name\": \"" + p.N + "\",\n    \"Consumer\": \"other@1\"\n}"
}
func (p *heldPin) In(pgpio.Pull, pgpio.Edge) error { return errBusy }
func (p *heldPin) Out(pgpio.Level) error           { return errBusy }

// TestErrorsNameHeldPins: a driver that cannot have a line says which,
// by the pin's name on one line, and keeps the kernel's reason.
func TestErrorsNameHeldPins(t *testing.T) {
	free := func(n string) *gpiotest.Pin { return &gpiotest.Pin{N: n, EdgesChan: make(chan pgpio.Level, 1)} }
	held := func(n string) *heldPin { return &heldPin{gpiotest.Pin{N: n}} }
	motor := func(lock pgpio.PinOut, limit pgpio.PinIn) error {
		_, err := NewMotor(MotorConfig{LockDir: lock, UnlockDir: free("GPIO24"),
			LockedSwitch: limit, UnlockedSwitch: free("GPIO20"), LockedSwitchActiveLow: true, UnlockedSwitchActiveLow: true})
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name, pin string
		run       func() error
	}{
		{"motor limit switch", "GPIO16", func() error { return motor(free("GPIO23"), held("GPIO16")) }},
		{"motor direction", "GPIO23", func() error { return motor(held("GPIO23"), free("GPIO16")) }},
		{"wiegand D1", "GPIO13", func() error {
			w, err := NewWiegand(free("GPIO6"), held("GPIO13"), WiegandOptions{})
			if err != nil {
				return err
			}
			return w.Run(ctx, make(chan KeyEvent, 1))
		}},
		{"matrix column", "GPIO19", func() error {
			m, err := NewMatrix([]pgpio.PinOut{free("GPIO17")}, []pgpio.PinIn{held("GPIO19")}, MatrixOptions{Layout: "1"})
			if err != nil {
				return err
			}
			return m.Run(ctx, make(chan KeyEvent, 1))
		}},
		{"matrix row", "GPIO17", func() error {
			m, err := NewMatrix([]pgpio.PinOut{held("GPIO17")}, []pgpio.PinIn{free("GPIO19")}, MatrixOptions{Layout: "1"})
			if err != nil {
				return err
			}
			return m.Run(ctx, make(chan KeyEvent, 1))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if !errors.Is(err, errBusy) {
				t.Fatalf("err = %v, want it to wrap %v", err, errBusy)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.pin) || strings.ContainsAny(msg, "{\n") {
				t.Errorf("err = %q, want the pin named %s on one line", msg, tt.pin)
			}
		})
	}
}

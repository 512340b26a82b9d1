package gpio_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/gpio/sim"
)

func TestStrike(t *testing.T) {
	for _, low := range []bool{false, true} {
		t.Run(map[bool]string{false: "active-high", true: "active-low"}[low], func(t *testing.T) {
			relay := sim.NewStrike(low)
			s, err := gpio.NewStrike(gpio.StrikeConfig{Pin: relay.Pin(), ActiveLow: low})
			if err != nil {
				t.Fatal(err)
			}
			check := func(step string, want gpio.Position) {
				t.Helper()
				if got := s.Position(); got != want {
					t.Errorf("%s: Position() = %s, want %s", step, got, want)
				}
				if relay.Unlocked() != (want == gpio.PosUnlocked) {
					t.Errorf("%s: relay energised = %t", step, relay.Unlocked())
				}
			}
			check("new", gpio.PosLocked)
			steps := []struct {
				name string
				do   func(context.Context) error
				want gpio.Position
			}{
				{"unlock", s.Unlock, gpio.PosUnlocked},
				{"unlock again", s.Unlock, gpio.PosUnlocked},
				{"lock", s.Lock, gpio.PosLocked},
				{"unlock", s.Unlock, gpio.PosUnlocked},
				{"stop", func(context.Context) error { return s.Stop() }, gpio.PosLocked},
			}
			for _, st := range steps {
				if err := st.do(t.Context()); err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				check(st.name, st.want)
			}

			done, cancel := context.WithCancel(t.Context())
			cancel()
			if err := s.Unlock(done); !errors.Is(err, context.Canceled) {
				t.Errorf("Unlock(cancelled) = %v, want context.Canceled", err)
			}
			check("unlock with a cancelled context", gpio.PosLocked)
			_ = s.Unlock(t.Context())
			if err := s.Lock(done); err != nil {
				t.Errorf("Lock(cancelled) = %v, want nil: relocking is always allowed", err)
			}
			check("lock with a cancelled context", gpio.PosLocked)
		})
	}
}

func TestStrikeConfig(t *testing.T) {
	pin := sim.NewPin("S", -1)
	tests := []struct {
		name      string
		cfg       gpio.StrikeConfig
		wantErr   string
		wantPulse time.Duration
	}{
		{"no pin", gpio.StrikeConfig{}, "gpio: strike: relay pin is required", 0},
		{"negative pulse", gpio.StrikeConfig{Pin: pin, Pulse: -time.Second}, "gpio: strike: negative pulse", 0},
		{"default pulse", gpio.StrikeConfig{Pin: pin}, "", gpio.DefaultPulse},
		{"set pulse", gpio.StrikeConfig{Pin: pin, Pulse: 3 * time.Second}, "", 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := gpio.NewStrike(tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("NewStrike = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Pulse() != tt.wantPulse {
				t.Errorf("Pulse() = %s, want %s", s.Pulse(), tt.wantPulse)
			}
		})
	}
}

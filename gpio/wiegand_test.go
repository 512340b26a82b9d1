package gpio_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/gpio/sim"
	pgpio "periph.io/x/conn/v3/gpio"
)

// bitString turns "0110" into bits; spaces are ignored.
func bitString(s string) []bool {
	var bits []bool
	for _, c := range s {
		if c == '0' || c == '1' {
			bits = append(bits, c == '1')
		}
	}
	return bits
}

func TestDecodeWiegand(t *testing.T) {
	tests := []struct {
		name string
		bits string
		key  gpio.Key
		card *gpio.Card
		err  error
	}{
		{name: "4-bit 0", bits: "0000", key: '0'},
		{name: "4-bit 9", bits: "1001", key: '9'},
		{name: "4-bit *", bits: "1010", key: '*'},
		{name: "4-bit #", bits: "1011", key: '#'},
		{name: "4-bit 12", bits: "1100", err: gpio.ErrWiegandKey},
		{name: "4-bit 15", bits: "1111", err: gpio.ErrWiegandKey},
		{name: "8-bit 5", bits: "1010 0101", key: '5'},
		{name: "8-bit #", bits: "0100 1011", key: '#'},
		{name: "8-bit bad complement", bits: "0101 0101", err: gpio.ErrWiegandKey},
		{name: "8-bit all ones", bits: "1111 1111", err: gpio.ErrWiegandKey},
		{name: "8-bit complement but code 13", bits: "0010 1101", err: gpio.ErrWiegandKey},
		{name: "26-bit", bits: "1 00000001 0000000000000001 0", card: &gpio.Card{Bits: 26, Facility: 1, Number: 1}},
		{name: "26-bit max", bits: "0 11111111 1111111111111111 1", card: &gpio.Card{Bits: 26, Facility: 255, Number: 65535}},
		{name: "26-bit even parity bad", bits: "0 00000001 0000000000000001 0", err: gpio.ErrWiegandParity},
		{name: "26-bit odd parity bad", bits: "1 00000001 0000000000000001 1", err: gpio.ErrWiegandParity},
		{name: "26-bit data bit flipped", bits: "1 00000011 0000000000000001 0", err: gpio.ErrWiegandParity},
		{name: "34-bit", bits: "1 0000000000000001 0000000000000001 0", card: &gpio.Card{Bits: 34, Facility: 1, Number: 1}},
		{name: "34-bit max", bits: "0 1111111111111111 1111111111111111 1", card: &gpio.Card{Bits: 34, Facility: 65535, Number: 65535}},
		{name: "34-bit parity bad", bits: "0 0000000000000001 0000000000000001 0", err: gpio.ErrWiegandParity},
		{name: "empty", bits: "", err: gpio.ErrWiegandLength},
		{name: "1 bit", bits: "1", err: gpio.ErrWiegandLength},
		{name: "5 bits", bits: "10010", err: gpio.ErrWiegandLength},
		{name: "25 bits", bits: "1 00000001 0000000000000001", err: gpio.ErrWiegandLength},
		{name: "27 bits", bits: "1 00000001 0000000000000001 00", err: gpio.ErrWiegandLength},
		{name: "37 bits", bits: strings.Repeat("0", 37), err: gpio.ErrWiegandLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := gpio.DecodeWiegand(bitString(tt.bits))
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !strings.HasPrefix(err.Error(), "gpio: ") {
					t.Fatalf("DecodeWiegand(%s) = %+v, %v; want a gpio: error wrapping %v", tt.bits, ev, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeWiegand(%s): %v", tt.bits, err)
			}
			if ev.Key != tt.key || !ev.Down || !ev.Time.IsZero() {
				t.Errorf("DecodeWiegand(%s) = key %q down %t time %s; want %q, true, zero", tt.bits, ev.Key, ev.Down, ev.Time, tt.key)
			}
			if (ev.Card == nil) != (tt.card == nil) || ev.Card != nil && *ev.Card != *tt.card {
				t.Errorf("DecodeWiegand(%s) card = %+v, want %+v", tt.bits, ev.Card, tt.card)
			}
		})
	}
}

// TestEncodeWiegandMatchesSim checks the package's encoder against the
// simulator's, written separately.
func TestEncodeWiegandMatchesSim(t *testing.T) {
	for _, c := range []gpio.Card{{26, 0, 0}, {26, 1, 1}, {26, 123, 45678}, {26, 255, 65535}, {34, 0, 0}, {34, 4660, 22136}, {34, 65535, 65535}} {
		got, err := gpio.EncodeWiegandCard(c)
		if err != nil {
			t.Fatal(err)
		}
		want, err := sim.CardBits(c.Bits, c.Facility, c.Number)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("EncodeWiegandCard(%+v) = %v, sim says %v", c, got, want)
		}
	}
	for _, c := range []gpio.Card{{30, 0, 0}, {26, 256, 0}, {26, 0, 65536}, {34, 65536, 0}} {
		if _, err := gpio.EncodeWiegandCard(c); err == nil {
			t.Errorf("EncodeWiegandCard(%+v) succeeded", c)
		}
	}
	for _, bad := range []struct {
		k    gpio.Key
		bits int
	}{{'A', 4}, {'1', 5}} {
		if _, err := gpio.EncodeWiegandKey(bad.k, bad.bits); err == nil {
			t.Errorf("EncodeWiegandKey(%q, %d) succeeded", bad.k, bad.bits)
		}
	}
}

// testGap ends a frame; frames are sent frameSpacing apart. The sim's
// transmitter runs in this process, so a stalled test process (other
// tests, -race, qemu) stretches its bit interval: the gap is generous and
// the bits are short and fast to keep the window small.
const (
	testGap      = 50 * time.Millisecond
	frameSpacing = 3 * testGap
	testPulse    = 50 * time.Microsecond
	testInterval = 500 * time.Microsecond
)

type wiegandRig struct {
	tx     *sim.Wiegand
	drv    *gpio.Wiegand
	events chan gpio.KeyEvent
	stop   func() error
}

func startWiegand(t *testing.T) *wiegandRig {
	t.Helper()
	tx := sim.NewWiegand()
	tx.Pulse, tx.Interval = testPulse, testInterval
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	drv, err := gpio.NewWiegand(tx.D0(), tx.D1(), gpio.WiegandOptions{Gap: testGap, Poll: testPoll, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	events := make(chan gpio.KeyEvent, 16)
	done := make(chan error, 1)
	go func() { done <- drv.Run(ctx, events) }()
	var stopped bool
	var runErr error
	stop := func() error {
		if !stopped {
			stopped = true
			cancel()
			runErr = <-done
		}
		return runErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	// Frames sent before Run configured the lines would be lost: wait for
	// the pull-ups Run sets.
	for tx.D0().Pull() != pullUp || tx.D1().Pull() != pullUp {
		time.Sleep(time.Millisecond)
	}
	return &wiegandRig{tx: tx, drv: drv, events: events, stop: stop}
}

// send sends one frame and waits out the frame gap (with a margin), as a
// reader does.
func (r *wiegandRig) send(t *testing.T, f func(context.Context) error) {
	t.Helper()
	if err := f(t.Context()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(frameSpacing)
}

func TestWiegandRun(t *testing.T) {
	rig := startWiegand(t)
	tx := rig.tx
	tests := []struct {
		name   string
		send   func(context.Context) error
		key    gpio.Key
		card   *gpio.Card
		reject bool
	}{
		{name: "4-bit keys", send: func(ctx context.Context) error { return tx.Type(ctx, "0123456789*#", frameSpacing) }},
		{name: "8-bit key", send: func(ctx context.Context) error { return tx.SendKey8(ctx, '7') }, key: '7'},
		{name: "8-bit bad complement", send: func(ctx context.Context) error { return tx.SendBits(ctx, bitString("00000111")) }, reject: true},
		{name: "26-bit card", send: func(ctx context.Context) error { return tx.SendCard(ctx, 26, 42, 4242) }, card: &gpio.Card{Bits: 26, Facility: 42, Number: 4242}},
		{name: "34-bit card", send: func(ctx context.Context) error { return tx.SendCard(ctx, 34, 4242, 65000) }, card: &gpio.Card{Bits: 34, Facility: 4242, Number: 65000}},
		{name: "26-bit bad parity", send: func(ctx context.Context) error {
			bits, _ := sim.CardBits(26, 42, 4242)
			bits[25] = !bits[25]
			return tx.SendBits(ctx, bits)
		}, reject: true},
		{name: "34-bit bad parity", send: func(ctx context.Context) error {
			bits, _ := sim.CardBits(34, 42, 4242)
			bits[0] = !bits[0]
			return tx.SendBits(ctx, bits)
		}, reject: true},
		{name: "3 bits", send: func(ctx context.Context) error { return tx.SendBits(ctx, bitString("101")) }, reject: true},
		{name: "35 bits", send: func(ctx context.Context) error { return tx.SendBits(ctx, make([]bool, 35)) }, reject: true},
		{name: "100 bits", send: func(ctx context.Context) error { return tx.SendBits(ctx, make([]bool, 100)) }, reject: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rejected := rig.drv.Rejected()
			before := time.Now()
			rig.send(t, tt.send)
			switch {
			case tt.reject:
				// The frame is reported refused, nothing decoded from it.
				select {
				case ev := <-rig.events:
					if ev.Err == nil || ev.Card != nil || ev.Key != 0 || ev.Down ||
						!errors.Is(ev.Err, gpio.ErrWiegandLength) && !errors.Is(ev.Err, gpio.ErrWiegandParity) && !errors.Is(ev.Err, gpio.ErrWiegandKey) {
						t.Fatalf("got %+v, want a refused frame", ev)
					}
				case <-time.After(testWait):
					t.Fatal("no event for a malformed frame")
				}
				// The next good frame must come through alone.
				rig.send(t, func(ctx context.Context) error { return tx.SendKey(ctx, '1') })
				expect(t, rig.events, '1', true)
				if got := rig.drv.Rejected(); got != rejected+1 {
					t.Errorf("Rejected() = %d, want %d", got, rejected+1)
				}
			case tt.card != nil:
				var ev gpio.KeyEvent
				select {
				case ev = <-rig.events:
				case <-time.After(testWait):
					t.Fatalf("no event, want card %+v", tt.card)
				}
				if ev.Card == nil || *ev.Card != *tt.card || !ev.Down || ev.Key != 0 {
					t.Fatalf("got %+v card %+v, want card %+v", ev, ev.Card, tt.card)
				}
				if ev.Time.Before(before) || ev.Time.After(time.Now()) {
					t.Errorf("Time %s is not during the frame", ev.Time)
				}
			case tt.key != 0:
				expect(t, rig.events, tt.key, true)
			default:
				for _, k := range []byte("0123456789*#") {
					expect(t, rig.events, gpio.Key(k), true)
				}
			}
			expectNone(t, rig.events, 0)
		})
	}
}

func TestWiegandCancel(t *testing.T) {
	rig := startWiegand(t)
	// Half a frame on the wire, then cancel: Run still returns nil.
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Millisecond)
	defer cancel()
	if err := rig.tx.SendBits(ctx, make([]bool, 26)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("SendBits: %v, want context.DeadlineExceeded", err)
	}
	start := time.Now()
	if err := rig.stop(); err != nil {
		t.Fatalf("Run: %v, want nil on cancel", err)
	}
	if d := time.Since(start); d > testPoll+100*time.Millisecond {
		t.Errorf("Run took %s to return", d)
	}
}

func TestNewWiegandErrors(t *testing.T) {
	tx := sim.NewWiegand()
	tests := []struct {
		name string
		d0   *sim.Pin
		d1   *sim.Pin
		opts gpio.WiegandOptions
	}{
		{"nil D0", nil, tx.D1(), gpio.WiegandOptions{}},
		{"nil D1", tx.D0(), nil, gpio.WiegandOptions{}},
		{"negative gap", tx.D0(), tx.D1(), gpio.WiegandOptions{Gap: -1}},
		{"negative poll", tx.D0(), tx.D1(), gpio.WiegandOptions{Poll: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d0, d1 = pinIn(tt.d0), pinIn(tt.d1)
			if _, err := gpio.NewWiegand(d0, d1, tt.opts); err == nil || !strings.HasPrefix(err.Error(), "gpio: ") {
				t.Fatalf("NewWiegand: %v, want a gpio: error", err)
			}
		})
	}
}

const pullUp = pgpio.PullUp

// pinIn turns a nil *sim.Pin into a nil interface, as a failed gpioreg
// lookup would give, rather than a non-nil interface holding nil.
func pinIn(p *sim.Pin) pgpio.PinIn {
	if p == nil {
		return nil
	}
	return p
}

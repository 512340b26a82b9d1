package sim

import (
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// receive records the bits a frame makes as falling edges on D0 and D1.
// It relies on SendBits being synchronous and the edge queue holding a
// whole frame; the ordering between lines is not recoverable here, so it
// returns counts.
func receive(t *testing.T, w *Wiegand) (zeros, ones int) {
	t.Helper()
	for w.D0().WaitForEdge(0) {
		zeros++
	}
	for w.D1().WaitForEdge(0) {
		ones++
	}
	return zeros, ones
}

func TestWiegandPulses(t *testing.T) {
	w := NewWiegand()
	w.Pulse, w.Interval = 10*time.Microsecond, 50*time.Microsecond
	for _, p := range []*Pin{w.D0(), w.D1()} {
		if err := p.In(gpio.PullUp, gpio.FallingEdge); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name        string
		send        func() error
		zeros, ones int
	}{
		{"bits", func() error { return w.SendBits(t.Context(), []bool{true, false, true}) }, 1, 2},
		{"key 4-bit", func() error { return w.SendKey(t.Context(), '#') }, 1, 3},   // 1011
		{"key 8-bit", func() error { return w.SendKey8(t.Context(), '#') }, 4, 4},  // 0100 1011
		{"card", func() error { return w.SendCard(t.Context(), 26, 1, 1) }, 23, 3}, // 1 00000001 0...01 0
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.send(); err != nil {
				t.Fatal(err)
			}
			if w.D0().Read() != gpio.High || w.D1().Read() != gpio.High {
				t.Fatal("lines not idle High after the frame")
			}
			if z, o := receive(t, w); z != tt.zeros || o != tt.ones {
				t.Errorf("%d zeros, %d ones; want %d, %d", z, o, tt.zeros, tt.ones)
			}
		})
	}
}

func TestCardBits(t *testing.T) {
	tests := []struct {
		bits             int
		facility, number uint32
		want             string
	}{
		// 1 | 00000001 | 0000000000000001 | 0: first half has one 1 -> P=1;
		// second half has one 1 -> odd already -> P=0.
		{26, 1, 1, "10000000100000000000000010"},
		{26, 0, 0, "00000000000000000000000001"},
		{34, 0xffff, 0xffff, "0111111111111111111111111111111111"},
	}
	for _, tt := range tests {
		got, err := CardBits(tt.bits, tt.facility, tt.number)
		if err != nil {
			t.Fatal(err)
		}
		s := make([]byte, len(got))
		for i, b := range got {
			s[i] = '0'
			if b {
				s[i] = '1'
			}
		}
		if string(s) != tt.want {
			t.Errorf("CardBits(%d, %d, %d) = %s, want %s", tt.bits, tt.facility, tt.number, s, tt.want)
		}
	}
	for _, bad := range [][3]uint32{{30, 0, 0}, {26, 256, 0}, {26, 0, 1 << 16}, {34, 1 << 16, 0}} {
		if _, err := CardBits(int(bad[0]), bad[1], bad[2]); err == nil {
			t.Errorf("CardBits%v succeeded", bad)
		}
	}
	if err := NewWiegand().SendKey(t.Context(), 'A'); err == nil {
		t.Error("SendKey('A') succeeded; 4-bit keypads have no A")
	}
}

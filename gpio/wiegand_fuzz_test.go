package gpio_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"lockd.dev/lockd/gpio"
)

// FuzzDecodeWiegand feeds arbitrary frames to the decoder, one bit per
// input byte (its lowest bit, so the seeds can be written as "0110...").
// Whatever it accepts must encode back to exactly the bits received: a
// decoder that accepted a frame it would not itself produce could turn
// line noise into a key or a card.
func FuzzDecodeWiegand(f *testing.F) {
	f.Add([]byte("0101"))
	f.Add([]byte("10100101"))
	f.Add([]byte("10000000100000000000000010"))
	f.Fuzz(func(t *testing.T, data []byte) {
		bits := make([]bool, len(data))
		for i, b := range data {
			bits[i] = b&1 == 1
		}
		ev, err := gpio.DecodeWiegand(bits)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "gpio: ") ||
				!errors.Is(err, gpio.ErrWiegandLength) && !errors.Is(err, gpio.ErrWiegandParity) && !errors.Is(err, gpio.ErrWiegandKey) {
				t.Fatalf("error %q is not a gpio: error wrapping a Wiegand sentinel", err)
			}
			if ev != (gpio.KeyEvent{}) {
				t.Fatalf("error %v with a non-zero event %+v", err, ev)
			}
			return
		}
		if !ev.Down || !ev.Time.IsZero() {
			t.Fatalf("accepted event %+v: want Down and a zero Time", ev)
		}
		var again []bool
		if ev.Card != nil {
			if ev.Key != 0 || ev.Card.Bits != len(bits) {
				t.Fatalf("card event %+v card %+v for %d bits", ev, ev.Card, len(bits))
			}
			again, err = gpio.EncodeWiegandCard(*ev.Card)
		} else {
			again, err = gpio.EncodeWiegandKey(ev.Key, len(bits))
		}
		if err != nil {
			t.Fatalf("accepted %v as %+v, which does not encode: %v", bits, ev, err)
		}
		if !slices.Equal(again, bits) {
			t.Fatalf("accepted %v as %+v, which encodes to %v", bits, ev, again)
		}
	})
}

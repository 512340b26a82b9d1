package gpio

import (
	"errors"
	"fmt"
)

// Reasons a Wiegand frame is rejected; DecodeWiegand wraps one of them.
var (
	ErrWiegandLength = errors.New("gpio: wiegand: unsupported frame length")
	ErrWiegandParity = errors.New("gpio: wiegand: bad parity")
	ErrWiegandKey    = errors.New("gpio: wiegand: bad key code")
)

// DecodeWiegand decodes one frame, first bit received first:
//
//   - 4 bits: a key, 0-9 for '0'-'9', 10 for '*', 11 for '#'.
//   - 8 bits: the same key code in the low nibble and its complement in
//     the high nibble.
//   - 26 bits: even parity over bits 0-12, an 8-bit facility, a 16-bit
//     number, odd parity over bits 13-25.
//   - 34 bits: even parity over bits 0-16, a 16-bit facility, a 16-bit
//     number, odd parity over bits 17-33.
//
// A key comes back as a press (Down true); a card with Card set and Key 0.
// Time is left zero. Anything else is an error wrapping ErrWiegandLength,
// ErrWiegandParity or ErrWiegandKey.
func DecodeWiegand(bits []bool) (KeyEvent, error) {
	switch n := len(bits); n {
	case 4:
		return wiegandKey(uint8(bitsValue(bits)), 4)
	case 8:
		v := uint8(bitsValue(bits))
		if v>>4 != ^v&0xf {
			return KeyEvent{}, fmt.Errorf("gpio: wiegand: 8-bit frame: high nibble is not the complement of the low: %w", ErrWiegandKey)
		}
		return wiegandKey(v&0xf, 8)
	case 26, 34:
		half := n / 2
		if countOnes(bits[:half])%2 != 0 || countOnes(bits[half:])%2 != 1 {
			return KeyEvent{}, fmt.Errorf("gpio: wiegand: %d-bit card: %w", n, ErrWiegandParity)
		}
		data := bitsValue(bits[1 : n-1])
		c := &Card{Bits: n, Facility: uint32(data >> 16), Number: uint32(data & 0xffff)}
		return KeyEvent{Down: true, Card: c}, nil
	default:
		return KeyEvent{}, fmt.Errorf("gpio: wiegand: %d-bit frame: %w", n, ErrWiegandLength)
	}
}

// EncodeWiegandKey encodes k as a 4- or 8-bit keypress frame.
func EncodeWiegandKey(k Key, bits int) ([]bool, error) {
	var v uint64
	switch {
	case k.IsDigit():
		v = uint64(k - '0')
	case k == '*':
		v = 10
	case k == '#':
		v = 11
	default:
		return nil, fmt.Errorf("gpio: wiegand: key %q has no code: %w", k, ErrWiegandKey)
	}
	switch bits {
	case 4:
		return valueBits(v, 4), nil
	case 8:
		return valueBits((^v&0xf)<<4|v, 8), nil
	}
	return nil, fmt.Errorf("gpio: wiegand: %d-bit key frame: %w", bits, ErrWiegandLength)
}

// EncodeWiegandCard encodes c as a 26- or 34-bit card frame with parity.
func EncodeWiegandCard(c Card) ([]bool, error) {
	fbits := 0
	switch c.Bits {
	case 26:
		fbits = 8
	case 34:
		fbits = 16
	default:
		return nil, fmt.Errorf("gpio: wiegand: %d-bit card: %w", c.Bits, ErrWiegandLength)
	}
	if c.Facility >= 1<<fbits || c.Number > 0xffff {
		return nil, fmt.Errorf("gpio: wiegand: facility %d or number %d does not fit a %d-bit card", c.Facility, c.Number, c.Bits)
	}
	bits := make([]bool, 1, c.Bits)
	bits = append(bits, valueBits(uint64(c.Facility)<<16|uint64(c.Number), c.Bits-2)...)
	bits = append(bits, false)
	half := c.Bits / 2
	bits[0] = countOnes(bits[:half])%2 == 1
	bits[c.Bits-1] = countOnes(bits[half:])%2 == 0
	return bits, nil
}

func wiegandKey(code uint8, n int) (KeyEvent, error) {
	switch {
	case code <= 9:
		return KeyEvent{Key: Key('0' + code), Down: true}, nil
	case code == 10:
		return KeyEvent{Key: '*', Down: true}, nil
	case code == 11:
		return KeyEvent{Key: '#', Down: true}, nil
	}
	return KeyEvent{}, fmt.Errorf("gpio: wiegand: %d-bit frame: key code %d: %w", n, code, ErrWiegandKey)
}

func bitsValue(bits []bool) uint64 {
	var v uint64
	for _, b := range bits {
		v <<= 1
		if b {
			v |= 1
		}
	}
	return v
}

func valueBits(v uint64, n int) []bool {
	bits := make([]bool, n)
	for i := range bits {
		bits[i] = v>>(n-1-i)&1 == 1
	}
	return bits
}

func countOnes(bits []bool) int {
	n := 0
	for _, b := range bits {
		if b {
			n++
		}
	}
	return n
}

package sim

import (
	"context"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Default Wiegand timings, typical of readers on the market. The standard
// allows pulses of 20-100 µs and intervals of 200 µs to 20 ms.
const (
	DefaultWiegandPulse    = 100 * time.Microsecond
	DefaultWiegandInterval = 2 * time.Millisecond
)

// Wiegand is a Wiegand keypad or card reader's transmitter: two open-
// collector data lines that the controller pulls up. A 0 bit is a Low pulse
// on D0, a 1 bit a Low pulse on D1. Hand D0 and D1 to the driver.
type Wiegand struct {
	// Pulse is how long a bit holds its line Low, Interval the time from
	// one bit's falling edge to the next. Zero means the default. Set them
	// before use.
	Pulse, Interval time.Duration

	d0, d1 *Pin
	mu     sync.Mutex // one frame at a time
}

// NewWiegand returns a transmitter with released (idle) data lines.
func NewWiegand() *Wiegand {
	return &Wiegand{d0: NewPin("D0", 0), d1: NewPin("D1", 1)}
}

// D0 returns the data-0 line.
func (w *Wiegand) D0() *Pin { return w.d0 }

// D1 returns the data-1 line.
func (w *Wiegand) D1() *Pin { return w.d1 }

// SendBits sends one frame, first bit first. The caller waits at least the
// receiver's frame gap before the next frame. On cancellation the lines
// are released and the error wraps ctx.Err(): the receiver sees a short
// frame.
func (w *Wiegand) SendBits(ctx context.Context, bits []bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	pulse, interval := w.Pulse, w.Interval
	if pulse <= 0 {
		pulse = DefaultWiegandPulse
	}
	if interval <= 0 {
		interval = DefaultWiegandInterval
	}
	for i, b := range bits {
		if i > 0 {
			if err := sleep(ctx, interval-pulse); err != nil {
				return fmt.Errorf("sim: wiegand: after %d of %d bits: %w", i, len(bits), err)
			}
		}
		line := w.d0
		if b {
			line = w.d1
		}
		line.Drive(gpio.Low)
		err := sleep(ctx, pulse)
		line.Release()
		if err != nil {
			return fmt.Errorf("sim: wiegand: bit %d of %d: %w", i, len(bits), err)
		}
	}
	return nil
}

// SendKey sends a 4-bit keypress frame: '0'-'9' as 0-9, '*' as 10, '#'
// as 11.
func (w *Wiegand) SendKey(ctx context.Context, key byte) error {
	v, err := keyCode(key)
	if err != nil {
		return err
	}
	return w.SendBits(ctx, uintBits(uint64(v), 4))
}

// SendKey8 sends an 8-bit keypress frame: the complement of the 4-bit code
// in the high nibble, the code in the low nibble.
func (w *Wiegand) SendKey8(ctx context.Context, key byte) error {
	v, err := keyCode(key)
	if err != nil {
		return err
	}
	return w.SendBits(ctx, uintBits(uint64((^v&0xf)<<4|v), 8))
}

// Type sends each key of keys as a 4-bit frame, gap apart (gap must exceed
// the receiver's frame gap).
func (w *Wiegand) Type(ctx context.Context, keys string, gap time.Duration) error {
	for i := range len(keys) {
		if _, err := keyCode(keys[i]); err != nil {
			return err
		}
	}
	for i := range len(keys) {
		if i > 0 {
			if err := sleep(ctx, gap); err != nil {
				return fmt.Errorf("sim: wiegand: type: %w", err)
			}
		}
		if err := w.SendKey(ctx, keys[i]); err != nil {
			return err
		}
	}
	return nil
}

// SendCard sends a 26-bit (8-bit facility) or 34-bit (16-bit facility)
// card frame with a 16-bit number and correct parity.
func (w *Wiegand) SendCard(ctx context.Context, bits int, facility, number uint32) error {
	frame, err := CardBits(bits, facility, number)
	if err != nil {
		return err
	}
	return w.SendBits(ctx, frame)
}

// CardBits encodes a 26- or 34-bit card frame: even parity over the first
// half (leading parity bit included), odd parity over the second half.
// It is written independently of the decoder in package gpio, so tests can
// check one against the other.
func CardBits(bits int, facility, number uint32) ([]bool, error) {
	fbits := 0
	switch bits {
	case 26:
		fbits = 8
	case 34:
		fbits = 16
	default:
		return nil, fmt.Errorf("sim: wiegand: no %d-bit card format (26 or 34)", bits)
	}
	if facility >= 1<<fbits || number >= 1<<16 {
		return nil, fmt.Errorf("sim: wiegand: facility %d or number %d too large for %d bits", facility, number, bits)
	}
	data := uintBits(uint64(facility)<<16|uint64(number), bits-2)
	frame := append(append([]bool{false}, data...), false)
	half := bits / 2
	frame[0] = ones(frame[1:half])%2 == 1           // make the first half even
	frame[bits-1] = ones(frame[half:bits-1])%2 == 0 // make the second half odd
	return frame, nil
}

func keyCode(key byte) (byte, error) {
	switch {
	case key >= '0' && key <= '9':
		return key - '0', nil
	case key == '*':
		return 10, nil
	case key == '#':
		return 11, nil
	}
	return 0, fmt.Errorf("sim: wiegand: no key code for %q", key)
}

func uintBits(v uint64, n int) []bool {
	out := make([]bool, n)
	for i := range n {
		out[i] = v>>(n-1-i)&1 == 1
	}
	return out
}

func ones(bits []bool) int {
	n := 0
	for _, b := range bits {
		if b {
			n++
		}
	}
	return n
}

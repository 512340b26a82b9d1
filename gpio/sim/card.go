package sim

import (
	"context"
	"fmt"
)

// PresentCard holds a card to the board's reader: the Wiegand keypad, or
// the card reader beside the matrix keypad. It sends a 26-bit frame, or
// a 34-bit one when the facility does not fit 8 bits, and returns once
// the frame is on the wire.
func (b *Board) PresentCard(ctx context.Context, facility, number uint32) error {
	w := b.Wiegand
	if w == nil {
		w = b.Reader
	}
	if w == nil {
		return fmt.Errorf("sim: this board has no card reader")
	}
	bits := 26
	if facility > 0xff {
		bits = 34
	}
	return w.SendCard(ctx, bits, facility, number)
}

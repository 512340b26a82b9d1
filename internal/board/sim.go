package board

import (
	"fmt"
	"strings"

	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/internal/config"
)

// NewSim builds the electrical model for the keypad and bolt kinds of c
// and returns it with c's pins pointed at it, ready for Build(c, b.ByName).
// A zero bc.Layout takes c's keypad layout; the kinds always come from c.
func NewSim(c config.Config, bc sim.BoardConfig) (*sim.Board, config.Config, error) {
	if bc.Layout == "" {
		bc.Layout = strings.Join(c.Keypad.Layout, "/")
	}
	bc.Wiegand, bc.Strike = c.Keypad.Type == "wiegand", c.Bolt.Type == "strike"
	b, err := sim.NewBoard(bc)
	if err != nil {
		return nil, c, fmt.Errorf("board: %w", err)
	}
	rows, cols := 0, 0
	if b.Matrix != nil {
		rows, cols = len(b.Matrix.RowPins()), len(b.Matrix.ColPins())
	}
	return b, SimConfig(c, rows, cols), nil
}

package main

import (
	"time"

	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/gpio/sim"
)

func newTestKeypad(b *sim.Board) (*gpio.Matrix, error) {
	return gpio.NewMatrix(b.Matrix.Rows(), b.Matrix.Cols(), gpio.MatrixOptions{Debounce: 5 * time.Millisecond})
}

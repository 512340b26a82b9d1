package main

import (
	"context"

	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/lock"
)

// runPanel shows the terminal panel until the user quits.
func runPanel(ctx context.Context, b *sim.Board, core *lock.Core, setupCode string, quit func()) error {
	<-ctx.Done()
	return nil
}

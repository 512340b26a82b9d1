package main

import (
	"context"

	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/internal/panel"
	"lockd.dev/lockd/lock"
)

// runPanel shows the terminal panel of `make run` until the user quits.
func runPanel(ctx context.Context, b *sim.Board, core *lock.Core, events <-chan lock.Event, layout, setupCode string, quit func()) error {
	return panel.Run(ctx, panel.Config{Board: b, Core: core, Events: events, Layout: layout,
		SetupCode: setupCode, Quit: quit})
}

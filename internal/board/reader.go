package board

import (
	"context"
	"sync"

	"lockd.dev/lockd/gpio"
)

// keypad is what the lock core reads keys and cards from.
type keypad interface {
	Run(context.Context, chan<- gpio.KeyEvent) error
}

// inputs is a matrix keypad and the card reader beside it as one keypad:
// both send into the same events, so a card is handled like a card from
// a Wiegand keypad. When either stops with an error, both stop and Run
// returns that error: a reader that fails is a keypad fault the lock
// reports, never a silence.
type inputs []keypad

// Run runs every input until ctx is cancelled (nil) or one fails.
func (in inputs) Run(ctx context.Context, events chan<- gpio.KeyEvent) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(in))
	for _, k := range in {
		wg.Go(func() {
			if err := k.Run(ctx, events); err != nil {
				errs <- err
				cancel()
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

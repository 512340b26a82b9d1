package gpio

import (
	"context"
	"time"

	pgpio "periph.io/x/conn/v3/gpio"
)

// watchEdges waits for edges on p until ctx is done, calling onEdge with
// the time each edge was seen and onIdle (if non-nil) after each wait of
// poll without one. The matrix and Wiegand drivers run one per line.
//
// A line that cannot wait (WaitForEdge returning false long before its
// timeout, as a pin without edge support may) would make this loop spin;
// it then waits out the rest of poll itself, so the worst case is one
// wasted wakeup per poll, not a busy CPU.
func watchEdges(ctx context.Context, p pgpio.PinIn, poll time.Duration, onEdge func(time.Time), onIdle func()) {
	for ctx.Err() == nil {
		start := time.Now()
		if p.WaitForEdge(poll) {
			onEdge(time.Now())
			continue
		}
		if onIdle != nil {
			onIdle()
		}
		if rest := poll - time.Since(start); rest > poll/2 {
			t := time.NewTimer(rest)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
	}
}

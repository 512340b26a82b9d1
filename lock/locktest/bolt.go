package locktest

import (
	"context"
	"sync"

	"lockd.dev/lockd/gpio"
)

// Bolt is a bolt that arrives at once. Jam, when set, makes every movement
// fail with gpio.ErrJammed and leaves the position unknown.
type Bolt struct {
	mu      sync.Mutex
	Pos     gpio.Position
	Jam     bool
	Locks   int // Lock calls
	Unlocks int // Unlock calls
}

var _ interface {
	Lock(context.Context) error
	Unlock(context.Context) error
	Position() gpio.Position
	Stop() error
} = (*Bolt)(nil)

// Lock moves to the locked end.
func (b *Bolt) Lock(ctx context.Context) error { return b.move(gpio.PosLocked, &b.Locks) }

// Unlock moves to the unlocked end.
func (b *Bolt) Unlock(ctx context.Context) error { return b.move(gpio.PosUnlocked, &b.Unlocks) }

func (b *Bolt) move(to gpio.Position, n *int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	*n++
	if b.Jam {
		b.Pos = gpio.PosUnknown
		return gpio.ErrJammed
	}
	b.Pos = to
	return nil
}

// Position returns where the bolt is.
func (b *Bolt) Position() gpio.Position {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Pos
}

// Stop does nothing.
func (b *Bolt) Stop() error { return nil }

// Counts returns the number of Lock and Unlock calls.
func (b *Bolt) Counts() (locks, unlocks int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Locks, b.Unlocks
}

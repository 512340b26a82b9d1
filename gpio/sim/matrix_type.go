package sim

import (
	"context"
	"fmt"
	"time"
)

// Tap presses key, holds it for hold, and releases it, with contact bounce
// on both transitions if Bounce is set. The key is released even when ctx
// is cancelled; the error then wraps ctx.Err().
func (m *Matrix) Tap(ctx context.Context, key byte, hold time.Duration) error {
	if _, _, err := m.find(key); err != nil {
		return err
	}
	err := m.bounce(ctx, key, true)
	if err == nil {
		err = sleep(ctx, hold)
	}
	if rerr := m.bounce(context.WithoutCancel(ctx), key, false); err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("sim: matrix: tap %q: %w", key, err)
	}
	return nil
}

// Type taps each key of keys in turn, holding each for hold and waiting
// gap between them. It checks every key before pressing any.
func (m *Matrix) Type(ctx context.Context, keys string, hold, gap time.Duration) error {
	for i := range len(keys) {
		if _, _, err := m.find(keys[i]); err != nil {
			return err
		}
	}
	for i := range len(keys) {
		if i > 0 {
			if err := sleep(ctx, gap); err != nil {
				return fmt.Errorf("sim: matrix: type: %w", err)
			}
		}
		if err := m.Tap(ctx, keys[i], hold); err != nil {
			return err
		}
	}
	return nil
}

// bounce moves key's contact to down, chattering first if m.Bounce > 0.
func (m *Matrix) bounce(ctx context.Context, key byte, down bool) error {
	for range m.Bounce {
		if err := m.set(key, down); err != nil {
			return err
		}
		if err := sleep(ctx, m.BounceGap); err != nil {
			_ = m.set(key, down)
			return err
		}
		if err := m.set(key, !down); err != nil {
			return err
		}
		if err := sleep(ctx, m.BounceGap); err != nil {
			_ = m.set(key, down)
			return err
		}
	}
	return m.set(key, down)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

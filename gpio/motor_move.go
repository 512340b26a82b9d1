package gpio

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// move implements Lock and Unlock.
func (m *Motor) move(ctx context.Context, to Position) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	verb := dirTo(to)
	if err := m.Check(); err != nil {
		return fmt.Errorf("gpio: motor: refusing to %s: %w", verb, err)
	}
	if m.Position() == to {
		return nil
	}
	back := PosUnlocked
	if to == PosUnlocked {
		back = PosLocked
	}
	m.log.Info("gpio: motor: moving", "dir", verb, "from", m.Position())
	start := time.Now()
	reached, err := m.drive(ctx, to)
	if err != nil {
		return err
	}
	if reached {
		m.log.Info("gpio: motor: moved", "dir", verb, "took", time.Since(start))
		return m.Check()
	}
	m.log.Warn("gpio: motor: no end switch in time, backing off",
		"dir", verb, "travel", m.travel, "back", back)
	reached, err = m.drive(ctx, back)
	if err != nil {
		return err
	}
	jam := &JamError{Target: to, Back: back, Reached: reached, Travel: m.travel}
	m.log.Error("gpio: motor: jammed", "err", jam)
	return jam
}

// drive energises the motor toward end to and waits until that end's switch
// closes (true), the travel timeout passes (false), ctx is done or Stop is
// called (error). The motor is released whenever it returns.
func (m *Motor) drive(ctx context.Context, to Position) (reached bool, err error) {
	sw, dir := m.locked, DirLock
	if to == PosUnlocked {
		sw, dir = m.unlocked, DirUnlock
	}
	if sw.active() {
		return true, nil
	}
	// Cancelling ctx releases the motor at once, even while we sit in
	// WaitForEdge, which cannot be interrupted.
	released := make(chan struct{})
	stopOnCancel := context.AfterFunc(ctx, func() {
		defer close(released)
		if err := m.Stop(); err != nil {
			m.log.Error("gpio: motor: release on cancel", "err", err)
		}
	})
	defer func() {
		// A release on cancel that has started must end before this move
		// returns: run late, it would stop the next move (seen: a walk of
		// short pulses had its second pulse "interrupted by Stop").
		if !stopOnCancel() {
			<-released
		}
	}()
	defer func() {
		if serr := m.Stop(); serr != nil {
			err = errors.Join(err, serr)
		}
	}()
	if err := m.energise(ctx, dir); err != nil {
		return false, err
	}
	deadline := time.Now().Add(m.travel)
	for {
		if sw.active() {
			return true, nil
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if m.Direction() != dir {
			// The release on cancel may have run between the ctx check
			// above and this one: then it is the cancel, not a Stop.
			if err := ctx.Err(); err != nil {
				return false, err
			}
			return false, fmt.Errorf("gpio: motor: %s interrupted by Stop", dir)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false, nil
		}
		sw.pin.WaitForEdge(min(PollInterval, left))
	}
}

// energise releases the other direction, then drives dir. It refuses once
// ctx is done so that a cancel racing with the start cannot leave the motor
// running after the release on cancel.
func (m *Motor) energise(ctx context.Context, dir Direction) error {
	m.outMu.Lock()
	defer m.outMu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	on, off := m.lockDir, m.unlockDir
	if dir == DirUnlock {
		on, off = off, on
	}
	if err := off.set(false); err != nil {
		return fmt.Errorf("gpio: motor: release before %s: %w", dir, err)
	}
	if err := on.set(true); err != nil {
		return fmt.Errorf("gpio: motor: energise %s: %w", dir, err)
	}
	m.setDir(dir)
	return nil
}

// releaseLocked drives both direction inputs inactive, trying both even if
// one fails. Call with m.outMu held.
func (m *Motor) releaseLocked() error {
	err := errors.Join(m.lockDir.set(false), m.unlockDir.set(false))
	if err != nil {
		return fmt.Errorf("gpio: motor: release: %w", err)
	}
	m.setDir(DirStop)
	return nil
}

// setDir records the direction and reports a change. Call with m.outMu held.
func (m *Motor) setDir(d Direction) {
	if m.dir == d {
		return
	}
	m.dir = d
	if m.onMove != nil {
		m.onMove(d)
	}
}

// dirTo names the move toward end p for messages.
func dirTo(p Position) Direction {
	if p == PosUnlocked {
		return DirUnlock
	}
	return DirLock
}

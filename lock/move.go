package lock

import (
	"context"
	"errors"
	"fmt"

	"lockd.dev/lockd/gpio"
)

// ErrDoorOpen is returned by Lock while the door guard holds the bolt back;
// the lock runs once the door closes.
var ErrDoorOpen = errors.New("lock: door is open; will lock when it closes")

// ErrStopped is returned by commands once the core has stopped.
var ErrStopped = errors.New("lock: core is not running")

type request struct {
	to     gpio.Position
	source string
	uid    int
	reply  chan error
}

type moveResult struct {
	to     gpio.Position
	source string
	uid    int
	err    error
}

// Lock asks the core to lock. It returns once the command is accepted (the
// bolt may still be moving), or ErrDoorOpen when the lock waits for the door.
func (c *Core) Lock(ctx context.Context, source string, uid int) error {
	return c.command(ctx, gpio.PosLocked, source, uid)
}

// Unlock asks the core to unlock. It returns once the command is accepted.
func (c *Core) Unlock(ctx context.Context, source string, uid int) error {
	return c.command(ctx, gpio.PosUnlocked, source, uid)
}

func (c *Core) command(ctx context.Context, to gpio.Position, source string, uid int) error {
	r := request{to: to, source: source, uid: uid, reply: make(chan error, 1)}
	select {
	case c.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Core) onRequest(r request) error {
	if err := c.modeGate(r.to, r.source, r.uid); err != nil {
		return err
	}
	if r.to == gpio.PosUnlocked {
		c.pendingLock = false
	}
	return c.request(r.to, r.source, r.uid)
}

// request moves the bolt to `to`, or queues it behind a running movement.
// A person's explicit request may move the bolt from an unknown or jammed
// state; nothing else does. The events in first are emitted right after the
// motor starts and before the movement's own event, so that a grant reads
// "granted, unlocking" without the audit write delaying the motor.
func (c *Core) request(to gpio.Position, source string, uid int, first ...Event) error {
	if to == gpio.PosLocked && c.cfg.DoorGuard && c.Status().DoorOpen {
		c.pendingLock = true
		c.emitAll(first)
		c.emit(Event{Kind: EventLockPending, Source: source, Reason: "door open", UID: uid})
		return ErrDoorOpen
	}
	if c.moving {
		c.want, c.wantSource, c.wantUID = to, source, uid
		c.emitAll(first)
		return nil
	}
	if c.cfg.Bolt.Position() == to {
		// Already there: nothing to move, nothing to report.
		if st := stateOf(to); c.Status().State != st {
			c.update(func(s *Status) { s.State = st })
		}
		if to == gpio.PosUnlocked {
			c.armRelock()
		}
		c.emitAll(first)
		return nil
	}
	c.move(to, source, uid, first)
	return nil
}

func (c *Core) emitAll(es []Event) {
	for _, e := range es {
		c.emit(e)
	}
}

// move starts a bolt movement in its own goroutine; the result comes back
// to the loop on boltDone.
func (c *Core) move(to gpio.Position, source string, uid int, first []Event) {
	c.stopRelock()
	c.want = gpio.PosUnknown
	st, kind := StateUnlocking, EventUnlocking
	run := c.cfg.Bolt.Unlock
	if to == gpio.PosLocked {
		st, kind, run = StateLocking, EventLocking, c.cfg.Bolt.Lock
	}
	ctx, cancel := context.WithCancel(c.runCtx)
	c.moving, c.cancelMove = true, cancel
	go func() {
		err := run(ctx)
		cancel()
		c.boltDone <- moveResult{to: to, source: source, uid: uid, err: err}
	}()
	c.update(func(s *Status) { s.State = st })
	c.emitAll(first)
	c.emit(Event{Kind: kind, Source: source, UID: uid})
}

func (c *Core) onMoved(r moveResult) {
	c.moving, c.cancelMove = false, nil
	switch {
	case errors.Is(r.err, context.Canceled):
		return
	case r.err != nil:
		reason := r.err.Error()
		if !errors.Is(r.err, gpio.ErrJammed) {
			reason = fmt.Sprintf("bolt failed: %v", r.err)
		}
		c.jamPos = c.cfg.Bolt.Position()
		c.update(func(s *Status) { s.State = StateJammed })
		c.emit(Event{Kind: EventJammed, Source: r.source, Reason: reason, UID: r.uid})
		c.show(gpio.PatternJam)
		c.background(gpio.PatternError)
		c.want = gpio.PosUnknown // never retry on our own after a jam
		return
	}
	st, kind := StateUnlocked, EventUnlocked
	if r.to == gpio.PosLocked {
		st, kind = StateLocked, EventLocked
	}
	c.update(func(s *Status) { s.State = st })
	c.emit(Event{Kind: kind, Source: r.source, UID: r.uid})
	c.idleBackground()
	if c.want != gpio.PosUnknown && c.want != r.to {
		c.request(c.want, c.wantSource, c.wantUID)
		return
	}
	c.want = gpio.PosUnknown
	if st == StateUnlocked {
		c.armRelock()
	}
}

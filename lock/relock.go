package lock

import (
	"time"

	"lockd.dev/lockd/gpio"
)

// The auto-relock countdown. Every start and stop of its timer goes
// through armRelock and stopRelock, so Status.RelockAt always says when
// it fires: the panel and clients count down without a timer of their own.

// armRelock (re)starts the auto-relock countdown.
func (c *Core) armRelock() {
	c.stopRelock()
	d := c.cfg.AutoRelock
	if c.cfg.Pulse > 0 {
		d = c.cfg.Pulse
	}
	if d <= 0 || c.Status().OperatingMode == ModePassage {
		return
	}
	if c.cfg.Pulse == 0 && c.Status().DoorOpen {
		return
	}
	c.relockT = c.clk.NewTimer(d)
	at := c.clk.Now().Add(d)
	c.update(func(s *Status) { s.RelockAt = at })
}

// stopRelock ends the countdown, if one runs.
func (c *Core) stopRelock() {
	stopTimer(&c.relockT)
	c.update(func(s *Status) { s.RelockAt = time.Time{} })
}

// autoRelock runs when the countdown ends (the caller cleared relockT).
func (c *Core) autoRelock() {
	c.update(func(s *Status) { s.RelockAt = time.Time{} })
	s := c.Status()
	if s.State != StateUnlocked || c.moving {
		return
	}
	if c.cfg.Pulse == 0 && s.DoorOpen {
		return
	}
	c.request(gpio.PosLocked, SourceAutoRelock, -1)
}

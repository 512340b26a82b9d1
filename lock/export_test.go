package lock

import (
	"context"

	"lockd.dev/lockd/gpio"
)

// Test hooks: drive a core synchronously, without Run, so the fuzzer and
// protocol tests are deterministic. Compiled only into tests.

// Prime prepares a core for StepKeys as Run would at start.
func (c *Core) Prime(ctx context.Context) {
	c.runCtx = ctx
	c.start(ctx)
	c.syncAlarms()
}

// StepKeys feeds key presses and completes every bolt movement before the
// next key.
func (c *Core) StepKeys(keys string) {
	for i := 0; i < len(keys); i++ {
		c.onKey(c.runCtx, gpio.KeyEvent{Key: gpio.Key(keys[i]), Down: true})
		c.settle()
	}
}

// StepTimers delivers timers that fired on a fake clock, as Run would.
func (c *Core) StepTimers() {
	for {
		select {
		case <-timerC(c.entryT):
			c.entryT = nil
			c.entry.timeout()
		case <-timerC(c.modeT):
			c.modeT = nil
			c.leaveMode()
		case <-timerC(c.relockT):
			c.relockT = nil
			c.autoRelock()
		case <-timerC(c.lockoutT):
			c.lockoutT = nil
			c.checkLockout(c.runCtx)
		case <-timerC(c.ma.ajarT):
			c.ma.ajarT = nil
			c.ma.ajar = true
		default:
			return
		}
		c.settle()
	}
}

func (c *Core) settle() {
	for c.moving {
		c.onMoved(<-c.boltDone)
	}
	c.syncAlarms() // as Run does after every turn
}

// StepDoor delivers a debounced door change, as the door sensor would.
func (c *Core) StepDoor(open bool) {
	c.onDoor(open)
	c.settle()
}

// StepPoll runs the once-a-second poll, as Run's ticker would.
func (c *Core) StepPoll() { c.poll(); c.settle() }

package lock

import "lockd.dev/lockd/gpio"

// StepCard delivers a card from the reader, or with err a frame it could
// not decode, and completes the bolt movement it starts.
func (c *Core) StepCard(card *gpio.Card, err error) {
	c.onKey(c.runCtx, gpio.KeyEvent{Down: err == nil, Card: card, Err: err})
	c.settle()
}

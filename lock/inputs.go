package lock

import (
	"context"
	"sync"
)

// runInputs starts the configured alarm inputs' drivers and returns
// their channels (nil, which never delivers, for an input not fitted).
func (c *Core) runInputs(ctx context.Context, wg *sync.WaitGroup) (tamper, power <-chan bool) {
	start := func(name string, in AlarmInput) <-chan bool {
		if in == nil {
			return nil
		}
		ch := make(chan bool, 4)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := in.Run(ctx, ch); err != nil {
				c.log.Error("lock: alarm input stopped", "input", name, "err", err)
				c.setHealth(name, err.Error())
			}
		}()
		return ch
	}
	return start("tamper", c.cfg.Tamper), start("power", c.cfg.Power)
}

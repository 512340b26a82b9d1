package hawkbit

import (
	"context"
	"time"
)

// Poll is one poll of Run's loop, for tests that drive time themselves.
func (c *Client) Poll(ctx context.Context) time.Duration { return c.poll(ctx) }

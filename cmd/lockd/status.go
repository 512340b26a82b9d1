package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"lockd.dev/lockd/internal/sdnotify"
	"lockd.dev/lockd/lock"
)

// statusLine tells a person the lock's state in one line (systemd STATUS=).
func statusLine(s lock.Status) string {
	parts := []string{string(s.State)}
	if s.HasDoor {
		parts[0] += map[bool]string{true: ", door open", false: ", door closed"}[s.DoorOpen]
	}
	if !s.Provisioned {
		parts = append(parts, "SETUP INCOMPLETE")
	}
	if !s.LockedOutUntil.IsZero() {
		parts = append(parts, fmt.Sprintf("keypad locked out for %s", time.Until(s.LockedOutUntil).Round(time.Second)))
	}
	if w := s.Warnings(); len(w) > 0 {
		parts = append(parts, "degraded: "+strings.Join(w, "; "))
	}
	return strings.Join(parts, "; ")
}

// reportStatus refreshes STATUS= on every event.
func reportStatus(ctx context.Context, core *lock.Core, events <-chan lock.Event) {
	last := ""
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-events:
			if !ok {
				return
			}
		}
		if l := statusLine(core.Status()); l != last {
			last = l
			_ = sdnotify.Send("STATUS=" + l)
		}
	}
}

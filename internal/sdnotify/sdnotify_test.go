package sdnotify

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lockd.dev/lockd/internal/sdnotify/sdnotifytest"
)

// listen points NOTIFY_SOCKET at a fresh socket and returns its messages.
func listen(t *testing.T) <-chan string {
	path, msgs := sdnotifytest.Listen(t)
	t.Setenv("NOTIFY_SOCKET", path)
	return msgs
}

func TestSendReachesSocket(t *testing.T) {
	msgs := listen(t)
	if err := Send("READY=1\nSTATUS=locked"); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-msgs:
		if m != "READY=1\nSTATUS=locked" {
			t.Errorf("got %q", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no notification arrived")
	}
}

// TestWatchdogStopsWhenLoopHangs: pings flow while alive, and stop once the
// loop stops turning.
func TestWatchdogStopsWhenLoopHangs(t *testing.T) {
	msgs := listen(t)
	var alive atomic.Bool
	alive.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Watchdog(ctx, 20*time.Millisecond, alive.Load, Send)
	for i := 0; i < 3; i++ {
		if m := <-msgs; !strings.Contains(m, "WATCHDOG=1") {
			t.Fatalf("got %q, want WATCHDOG=1", m)
		}
	}
	alive.Store(false)
	// Drain what was already in flight, then expect silence for many periods.
	deadline := time.After(300 * time.Millisecond)
	late := 0
	for {
		select {
		case <-msgs:
			late++
			if late > 1 {
				t.Fatalf("watchdog kept pinging a hung loop (%d pings after it hung)", late)
			}
		case <-deadline:
			return
		}
	}
}

func TestWatchdogIntervalFromEnv(t *testing.T) {
	t.Setenv("WATCHDOG_USEC", "10000000")
	t.Setenv("WATCHDOG_PID", "")
	if got := WatchdogInterval(); got != 10*time.Second {
		t.Errorf("WatchdogInterval = %v, want 10s", got)
	}
	t.Setenv("WATCHDOG_USEC", "")
	if got := WatchdogInterval(); got != 0 {
		t.Errorf("WatchdogInterval without env = %v, want 0", got)
	}
}

// Package sdnotify tells systemd how lockd is doing: READY=1 once the
// hardware is claimed and the state known, a one-line STATUS=, STOPPING=1,
// and watchdog pings that stop as soon as the main loop stops turning.
package sdnotify

import (
	"context"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// Send delivers one notification; it is a no-op outside systemd
// (NOTIFY_SOCKET unset).
func Send(state string) error {
	_, err := daemon.SdNotify(false, state)
	return err
}

// WatchdogInterval returns the interval systemd expects pings at (from
// WATCHDOG_USEC), or 0 when the watchdog is off.
func WatchdogInterval() time.Duration {
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		return 0
	}
	return d
}

// Watchdog sends WATCHDOG=1 every interval/2 for as long as alive returns
// true, until ctx is cancelled. alive must be cheap: it reports whether the
// main loop turned recently. Once alive is false, pings stop, so systemd
// kills and restarts a hung lockd (or, on a trial boot, reboots).
func Watchdog(ctx context.Context, interval time.Duration, alive func() bool, send func(string) error) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if alive() {
				_ = send("WATCHDOG=1")
			}
		}
	}
}

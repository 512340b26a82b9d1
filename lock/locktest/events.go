package locktest

import (
	"testing"
	"time"

	"lockd.dev/lockd/lock"
)

// WaitEvent returns the next event of kind on events (from
// Core.Subscribe), skipping others; it fails t when none comes within 10
// s, a bound for a hung core, not a measure of speed.
func WaitEvent(t testing.TB, events <-chan lock.Event, kind string) lock.Event {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-events:
			if e.Kind == kind {
				return e
			}
		case <-deadline:
			t.Fatalf("no %q event within 10 s", kind)
			return lock.Event{}
		}
	}
}

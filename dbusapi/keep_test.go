package dbusapi_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/internal/dbustest"
	"lockd.dev/lockd/lock"
)

// busStates records what the service tells Config.OnBus.
type busStates chan error

func (s busStates) onBus(err error) {
	select {
	case s <- err:
	default: // a test that stops reading must not stall Serve
	}
}

// next returns the next state, failing the test after 30 s (the longest
// backoff step plus a connection).
func (s busStates) next(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s:
		return err
	case <-time.After(45 * time.Second):
		t.Fatal("the service reported no bus state within 45 s")
		return nil
	}
}

// TestReconnect restarts dbus-daemon under a serving lockd: lockd says it
// lost the bus, connects again by itself, owns io.lockd.Lock1 again and
// answers busctl as before.
func TestReconnect(t *testing.T) {
	states := make(busStates, 64)
	// As cmd/lockd does, the bus state is a health warning of the core.
	var core atomic.Pointer[lock.Core]
	r := newRig(t, rigOptions{onBus: func(err error) {
		if c := core.Load(); c != nil {
			problem := ""
			if err != nil {
				problem = err.Error()
			}
			c.SetWarning("dbus", problem)
		}
		states.onBus(err)
	}})
	core.Store(r.core)
	if err := states.next(t); err != nil {
		t.Fatalf("first state %v, want on the bus", err)
	}
	restart := time.Now()
	r.bus.Restart(t)
	lost := states.next(t)
	if lost == nil {
		t.Fatal("no loss reported after dbus-daemon restarted")
	}
	t.Logf("lost: %v", lost)
	for err := lost; err != nil; err = states.next(t) {
	}
	t.Logf("on the bus again %v after the restart began", time.Since(restart).Round(time.Millisecond))
	// The properties show the health as it is from the first call on.
	res := r.bus.Busctl(t, dbustest.Root, "get-property", wire.BusName, string(wire.ObjectPath), wire.Lock1, wire.PropHealth)
	if !res.OK() || strings.Contains(res.Stdout, "dbus") {
		t.Errorf("Health after the reconnection: %v %q", res.Err, res.Output())
	}
	if out := r.mustCall(t, dbustest.Root, wire.Lock1, "Unlock"); out != "" {
		t.Errorf("Unlock printed %q", out)
	}
	res = r.bus.Busctl(t, r.reader(), "get-property", wire.BusName, string(wire.ObjectPath), wire.Lock1, wire.PropProvisioned)
	if !res.OK() {
		t.Errorf("group lockd reads after the restart: %v %s", res.Err, res.Output())
	}
}

package dbustest

import (
	"testing"

	"github.com/godbus/dbus/v5"
)

// Conn returns a godbus connection to the bus as the test process
// (root), closed when the test ends.
func (b *Bus) Conn(t testing.TB) *dbus.Conn {
	t.Helper()
	c, err := dbus.Connect(b.Address)
	if err != nil {
		t.Fatalf("dbustest: connect to %s: %v", b.Address, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Signals subscribes a new connection to the signals that match opts and
// returns them (buffered; a test that falls 256 behind loses signals).
func (b *Bus) Signals(t testing.TB, opts ...dbus.MatchOption) <-chan *dbus.Signal {
	t.Helper()
	c := b.Conn(t)
	if err := c.AddMatchSignal(opts...); err != nil {
		t.Fatalf("dbustest: add match: %v", err)
	}
	ch := make(chan *dbus.Signal, 256)
	c.Signal(ch)
	return ch
}

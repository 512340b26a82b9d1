package main

import (
	"context"

	"github.com/godbus/dbus/v5"
)

// propWatch wakes a waiter whenever lockd reports a property change on an
// interface; the waiter then reads what it needs. Re-reading instead of
// trusting the signal's payload keeps waiters correct if a signal is lost.
type propWatch struct {
	c    *client
	ch   chan *dbus.Signal
	rule []dbus.MatchOption
}

// watchProps starts watching PropertiesChanged for iface.
func (c *client) watchProps(ctx context.Context, iface string) (*propWatch, error) {
	w := &propWatch{c: c, ch: make(chan *dbus.Signal, 64), rule: []dbus.MatchOption{
		dbus.WithMatchSender(busName), dbus.WithMatchObjectPath(objectPath),
		dbus.WithMatchInterface(ifaceProps), dbus.WithMatchMember("PropertiesChanged"),
		dbus.WithMatchArg(0, iface),
	}}
	if err := c.conn.AddMatchSignalContext(ctx, w.rule...); err != nil {
		return nil, explain("org.freedesktop.DBus", "AddMatch", err)
	}
	c.conn.Signal(w.ch)
	return w, nil
}

// changed delivers a value after each change (and other signals lockctl
// receives: a spurious wake-up costs one read).
func (w *propWatch) changed() <-chan *dbus.Signal { return w.ch }

func (w *propWatch) close() {
	w.c.conn.RemoveSignal(w.ch)
	_ = w.c.conn.RemoveMatchSignal(w.rule...)
}

package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/godbus/dbus/v5"
)

// eventStream receives lockd's Event signals. A signal counts only if the
// bus says it came from the connection that owns io.lockd.Lock1 (owner,
// kept current from the bus driver's NameOwnerChanged): any client can
// send lockctl a signal with lockd's interface and path, or one that
// claims to be the bus driver's, but the bus sets the sender.
type eventStream struct {
	c     *client
	ch    chan *dbus.Signal
	owner string // lockd's unique name: only its signals count
	rules [][]dbus.MatchOption
}

// subscribeEvents starts receiving Event signals and notices of lockd
// leaving the bus.
func (c *client) subscribeEvents(ctx context.Context) (*eventStream, error) {
	s := &eventStream{c: c, ch: make(chan *dbus.Signal, 256)}
	s.rules = [][]dbus.MatchOption{
		{dbus.WithMatchSender(busName), dbus.WithMatchObjectPath(objectPath),
			dbus.WithMatchInterface(ifaceLock), dbus.WithMatchMember("Event")},
		{dbus.WithMatchSender("org.freedesktop.DBus"), dbus.WithMatchInterface("org.freedesktop.DBus"),
			dbus.WithMatchMember("NameOwnerChanged"), dbus.WithMatchArg(0, busName)},
	}
	c.conn.Signal(s.ch)
	for _, r := range s.rules {
		if err := c.conn.AddMatchSignalContext(ctx, r...); err != nil {
			s.close()
			return nil, explain("org.freedesktop.DBus", "AddMatch", err)
		}
	}
	if err := c.conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.GetNameOwner", 0, busName).Store(&s.owner); err != nil {
		s.close()
		return nil, c.locate(explain("org.freedesktop.DBus", "GetNameOwner", err))
	}
	return s, nil
}

func (s *eventStream) close() {
	s.c.conn.RemoveSignal(s.ch)
}

// run calls f for each Event until ctx is done (it returns ctx's error),
// lockd leaves the bus or the connection drops.
func (s *eventStream) run(ctx context.Context, f func(logEntry) error) error {
	for {
		var sig *dbus.Signal
		var ok bool
		select {
		case <-ctx.Done():
			return ctx.Err()
		case sig, ok = <-s.ch:
		}
		if !ok {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return errors.New("lost the connection to the bus")
		}
		switch sig.Name {
		case "org.freedesktop.DBus.NameOwnerChanged":
			// Any client may send this signal to lockctl's unique
			// name; only the bus driver's says who owns what.
			if sig.Sender != "org.freedesktop.DBus" || sig.Path != "/org/freedesktop/DBus" {
				continue
			}
			var name, old, owner string
			if dbus.Store(sig.Body, &name, &old, &owner) == nil && name == busName {
				if owner == "" {
					return errors.New("lockd left the bus")
				}
				s.owner = owner
			}
		case ifaceLock + ".Event":
			if sig.Sender != s.owner || sig.Path != objectPath {
				continue
			}
			var kind string
			var details map[string]dbus.Variant
			if err := dbus.Store(sig.Body, &kind, &details); err != nil {
				return fmt.Errorf("lockd sent an Event signal with unexpected arguments: %w", err)
			}
			if err := f(newLogEntry(0, kind, details)); err != nil {
				return err
			}
		}
	}
}

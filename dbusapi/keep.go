package dbusapi

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
)

// keep serves on a connection of its own (Config.Bus), and on a new one
// whenever it is lost, until ctx ends. Each connection gets its own
// session (a Service bound to it, see forConn) so that a call still
// running from a lost connection asks that connection, never the new
// one, who its caller is: unique names start again at :1.0 on a restarted
// bus. Between connections the feeds keep flowing: the updater's events
// still reach the audit log.
func (s *Service) keep(ctx context.Context, f *feeds) error {
	b := newBackoff()
	for {
		start := time.Now()
		err := s.serveOnce(ctx, f, func() {
			b.reset()
			s.readyOnce.Do(func() { close(s.ready) })
			s.busState(nil, time.Since(start))
		})
		if ctx.Err() != nil {
			return nil
		}
		wait := b.next()
		s.busState(fmt.Errorf("%w; retrying in %v", err, wait.Round(time.Millisecond)), 0)
		if !s.idle(ctx, f, wait) {
			return nil
		}
	}
}

// serveOnce connects, serves until the connection is lost or ctx ends,
// and says why it returned; up is called once the name is owned.
func (s *Service) serveOnce(ctx context.Context, f *feeds, up func()) error {
	conn, guard, err := s.dial(ctx)
	if err != nil {
		return err
	}
	defer guard.Close()
	defer conn.Close()
	sess := s.forConn(conn)
	if err := sess.attach(); err != nil {
		return err
	}
	defer sess.detach()
	up()
	sess.syncProps() // OnBus may have changed the health the properties show
	err = sess.run(ctx, f, conn.Context().Done())
	if gerr := guard.Err(); err != nil && gerr != nil {
		err = fmt.Errorf("%w: %w", err, gerr)
	}
	return err
}

// forConn returns a session: a Service that serves on conn, sharing s's
// configuration and feeds.
func (s *Service) forConn(conn *dbus.Conn) *Service {
	c := &Service{cfg: s.cfg, conn: conn, log: s.log, now: s.now, adminGroup: s.adminGroup, ownUID: s.ownUID,
		readerGroup: s.readerGroup, lookupGroup: s.lookupGroup, userGroups: s.userGroups,
		signatures: s.signatures, ready: s.ready, base: s.base}
	c.credentials = c.busCredentials
	return c
}

// idle waits d while no connection serves, auditing the updater's events
// (the lock core audits its own; their signals have nobody to go to). It
// returns false when ctx ends.
func (s *Service) idle(ctx context.Context, f *feeds, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		case _, ok := <-f.events:
			if !ok {
				f.events = nil
			}
		case e, ok := <-f.updates:
			if !ok {
				f.updates = nil
				continue
			}
			s.updateEvent(ctx, e)
		case <-f.changed:
		}
	}
}

// busState logs a change of the connection and tells Config.OnBus.
func (s *Service) busState(err error, took time.Duration) {
	if err == nil {
		s.log.Info("dbusapi: on the bus", "name", wire.BusName, "took", took.Round(time.Millisecond))
	} else if !errors.Is(err, context.Canceled) {
		s.log.Warn("dbusapi: not on the bus; the lock works from its keypad", "err", err)
	}
	if s.cfg.OnBus != nil {
		s.cfg.OnBus(err)
	}
}

package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/dbusapi"
	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/lock"
	"lockd.dev/lockd/updater"
)

// serveBus connects to the bus and serves the D-Bus API until ctx ends. It
// returns once the name is owned (or serving failed) so that READY=1 can
// wait for it. Without a bus the lock keeps working from its keypad; the
// failure is logged and reported back as a health problem.
func serveBus(ctx context.Context, bus string, core *lock.Core, store *codes.Store, board *sim.Board, up *updater.Updater, served *atomic.Bool, log *slog.Logger) error {
	conn, err := dbusapi.Dial(bus)
	if err != nil {
		return err // "dbusapi: ..." says what failed
	}
	cfg := dbusapi.Config{Conn: conn, Lock: core, Log: log}
	if store != nil {
		cfg.Codes = store
	}
	if board != nil {
		cfg.Sim = board
	}
	if up != nil {
		cfg.Updater = up
	}
	svc, err := dbusapi.New(cfg)
	if err != nil {
		conn.Close()
		return err
	}
	done := make(chan error, 1)
	go func() {
		err := svc.Serve(ctx)
		served.Store(false)
		conn.Close()
		done <- err
	}()
	select {
	case <-svc.Ready():
		served.Store(true)
		go func() {
			if err := <-done; err != nil {
				log.Error("dbus service stopped", "err", err)
			}
		}()
		return nil
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		return fmt.Errorf("dbusapi: no bus name after 10 s on the %s bus", bus)
	}
}

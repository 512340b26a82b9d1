package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/dbusapi"
	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/lock"
)

// serveBus connects to the bus and serves the D-Bus API until ctx ends. It
// returns once the name is owned (or serving failed) so that READY=1 can
// wait for it. Without a bus the lock keeps working from its keypad; the
// failure is logged and reported back as a health problem.
func serveBus(ctx context.Context, bus string, core *lock.Core, store *codes.Store, board *sim.Board, log *slog.Logger) error {
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
	svc, err := dbusapi.New(cfg)
	if err != nil {
		conn.Close()
		return err
	}
	served := make(chan error, 1)
	go func() {
		err := svc.Serve(ctx)
		conn.Close()
		served <- err
	}()
	select {
	case <-svc.Ready():
		go func() {
			if err := <-served; err != nil {
				log.Error("dbus service stopped", "err", err)
			}
		}()
		return nil
	case err := <-served:
		return err
	case <-time.After(10 * time.Second):
		return fmt.Errorf("dbusapi: no bus name after 10 s on the %s bus", bus)
	}
}

package main

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/dbusapi"
	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/internal/sdnotify"
	"lockd.dev/lockd/lock"
	"lockd.dev/lockd/updater"
)

// firstAttempt bounds how long READY=1 waits for the bus name.
const firstAttempt = 10 * time.Second

// serveBus serves the D-Bus API on bus until ctx ends; dbusapi connects
// again by itself whenever the bus is lost. It returns after the first
// attempt (name owned, failed, or firstAttempt passed) so that READY=1 can
// wait for it. Off the bus the lock works from its keypad, the "dbus"
// health warning says why (STATUS=, the LEDs, Health once back) and busOK
// is false, which holds a trial boot's commit until the bus is back.
//
// On the simulator's private bus (private), which only lockd's own user
// can reach, that user administers the lock: `make run` needs no root.
func serveBus(ctx context.Context, bus string, private bool, core *lock.Core, store *codes.Store, board *sim.Board, up dbusapi.Updater,
	openURL func(context.Context, string) (updater.Source, error), busOK *atomic.Bool, log *slog.Logger) error {
	first := make(chan struct{})
	var once sync.Once
	cfg := dbusapi.Config{Bus: bus, OwnUserIsAdmin: private, Lock: core, Log: log, OnBus: func(err error) {
		busOK.Store(err == nil)
		problem := ""
		if err != nil {
			problem = "off the " + bus + " bus, reconnecting: " + err.Error()
		}
		core.SetWarning("dbus", problem)
		_ = sdnotify.Send("STATUS=" + statusLine(core.Status()))
		once.Do(func() { close(first) })
	}}
	if store != nil {
		cfg.Codes = store
	}
	if board != nil {
		cfg.Sim = board
	}
	if up != nil {
		cfg.Updater, cfg.OpenURL = up, openURL
	}
	svc, err := dbusapi.New(cfg)
	if err != nil {
		return err
	}
	core.SetWarning("dbus", "connecting to the "+bus+" bus")
	go func() {
		if err := svc.Serve(ctx); err != nil {
			log.Error("dbus service stopped", "err", err)
		}
	}()
	select {
	case <-first:
	case <-ctx.Done():
	case <-time.After(firstAttempt):
	}
	return nil
}

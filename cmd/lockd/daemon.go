package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/internal/board"
	"lockd.dev/lockd/internal/codeslink"
	"lockd.dev/lockd/internal/config"
	"lockd.dev/lockd/internal/sdnotify"
	"lockd.dev/lockd/internal/statelock"
	"lockd.dev/lockd/lock"
)

// daemon runs lockd until ctx is cancelled (SIGTERM): then the motor stops,
// the store closes and daemon returns nil.
func daemon(ctx context.Context, o options) error {
	cfg, err := loadConfig(o)
	if err != nil {
		return err
	}
	o.sim = o.sim || cfg.Board.Sim
	if err := os.MkdirAll(o.stateDir, 0o700); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	held, err := statelock.Acquire(o.stateDir) // one lockd per state directory
	if err != nil {
		return err
	}
	defer held.Release()
	// The panel needs a terminal both ways, and that terminal to itself:
	// with a pipe on either side, or in the background (`lockd --sim &`,
	// which the shell would stop at the panel's first write), lockd runs
	// headless and the board is driven over D-Bus.
	interactive := o.sim && ownsTerminal(os.Stdin, os.Stdout)
	log, closeLog, err := newLogger(o.stateDir, interactive)
	if err != nil {
		return err
	}
	defer closeLog()
	slog.SetDefault(log)

	var simBoard *sim.Board
	lookup := board.Lookup(gpioreg.ByName)
	if o.sim {
		if simBoard, cfg, err = board.NewSim(cfg, sim.BoardConfig{Start: sim.BoltLocked}); err != nil {
			return err
		}
		lookup = simBoard.ByName
	} else if _, err := host.Init(); err != nil {
		return fmt.Errorf("gpio: host init: %w", err)
	}
	hw, err := board.Build(cfg, lookup, log)
	if err != nil {
		return err
	}

	setupCode := ""
	if o.sim {
		setupCode = simSetupCode(o.stateDir, log)
	}
	store, lockCodes := openCodes(ctx, o.stateDir, cfg, log)
	if store != nil {
		defer store.Close()
	}
	core, err := lock.New(lock.Config{
		Keypad: hw.Keypad(), Bolt: hw.Bolt(), Codes: lockCodes, Door: doorOf(hw),
		Indicator:  hw.Indicators,
		AutoRelock: time.Duration(cfg.Lock.AutoRelock) * time.Second,
		Pulse:      strikePulse(cfg, hw),
		DoorGuard:  hw.Motor != nil,
		Log:        log,
		Sink:       auditSink(ctx, store, log),
		States:     statesOf(store),
		Tamper:     alarmInputOf(hw.Tamper),
		Power:      alarmInputOf(hw.Power),
		DoorAjar:   time.Duration(cfg.Door.DoorAjar) * time.Second,
	})
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	leds := make(chan struct{})
	go func() { hw.Indicators.Run(ctx); close(leds) }() // switches them off on return
	events, unsubscribe := core.Subscribe(64)
	defer unsubscribe()
	var panelEvents <-chan lock.Event
	if interactive {
		var stop func()
		panelEvents, stop = core.Subscribe(64) // before Run: the panel sees start-up events too
		defer stop()
	}
	done := make(chan error, 1)
	go func() { done <- core.Run(ctx) }()

	select {
	case <-core.Ready():
	case err := <-done:
		return err
	}
	// The updater may end lockd: a simulated reboot, or a trial boot that
	// did not get healthy in time (then with an error, so systemd's trial
	// drop-in reboots and the boot script counts the failed boot).
	var (
		stopErr  error
		stopOnce sync.Once
		stopped  = make(chan struct{})
	)
	// err nil or a simReboot is a clean exit.
	stop := func(err error) { // from the updater's goroutines: first call wins
		stopOnce.Do(func() {
			stopErr = err
			close(stopped)
			cancel()
		})
	}
	var busOK atomic.Bool
	hold := &fleetHold{}
	up, err := newUpdater(ctx, o, cfg, updaterDeps{core: core, storeOK: store != nil, busOK: &busOK, log: log, stop: stop, hold: hold})
	if err != nil {
		// The lock works without its updater; say why updates are off.
		log.Error("updater unavailable; updates are off", "err", err)
		core.SetWarning("update", err.Error())
	}
	update, openURL := startFleet(ctx, o, cfg, up, hold, log)
	bus, private, busProblem, stopBus := whichBus(ctx, o.bus, o.sim, o.stateDir, log)
	defer stopBus()
	if busProblem != "" {
		core.SetWarning("dbus", busProblem)
	} else if err := serveBus(ctx, bus, private, core, store, simBoard, update, openURL, &busOK, log); err != nil {
		// The keypad and the bolt work without D-Bus; say what is missing.
		log.Error("D-Bus unavailable; the lock runs from its keypad only", "err", err)
		core.SetWarning("dbus", err.Error())
	}
	if up != nil {
		go up.Run(ctx)
		go mirrorUpdateWarning(ctx, up, core)
	}
	_ = sdnotify.Send("READY=1\nSTATUS=" + statusLine(core.Status()))
	log.Info("lockd ready", "state", core.Status().State, "sim", o.sim)
	go sdnotify.Watchdog(ctx, sdnotify.WatchdogInterval(), loopAlive(core, 3*time.Second), sdnotify.Send)
	go reportStatus(ctx, core, events)
	if o.onReady != nil {
		o.onReady(simBoard, core)
	}

	if interactive {
		layout := strings.Join(cfg.Keypad.Layout, "/")
		if err := runPanel(ctx, simBoard, core, panelEvents, layout, setupCode, cancel); err != nil {
			log.Error("panel", "err", err)
		}
		cancel()
	}
	err = <-done
	cancel()
	<-leds
	_ = sdnotify.Send("STOPPING=1")
	select {
	case <-stopped:
		// The panel has given the terminal back: a simulated reboot
		// leaves its line there.
		if stopErr = sayRebooted(os.Stdout, stopErr); stopErr != nil {
			log.Error("lockd stopped", "err", stopErr)
			return stopErr
		}
	default:
	}
	log.Info("lockd stopped")
	return err
}

func loadConfig(o options) (config.Config, error) {
	c, err := config.Load(o.configPath)
	if o.sim && !o.configSet && errors.Is(err, fs.ErrNotExist) {
		c, err = config.Default(), nil
		c.Update.Bootloader = "sim"
	}
	return c, err
}

// openCodes opens the code store. When it cannot, lockd still runs with
// the keypad closed and says why (lock.Unavailable).
func openCodes(ctx context.Context, dir string, cfg config.Config, log *slog.Logger) (*codes.Store, lock.Codes) {
	loc := time.Local
	if cfg.Codes.TimeZone != "" {
		loc, _ = time.LoadLocation(cfg.Codes.TimeZone) // checked by config.Check
	}
	s, err := codes.Open(ctx, codes.Options{
		Dir: dir, Logger: log, Location: loc, BuildTime: buildTime(),
		Lockout: codes.LockoutPolicy{
			Threshold: cfg.Codes.LockoutAfter,
			Base:      time.Duration(cfg.Codes.LockoutBase) * time.Second,
			Max:       time.Duration(cfg.Codes.LockoutMax) * time.Second,
			Budget:    cfg.Codes.LockoutBudget,
			Refill:    time.Duration(cfg.Codes.LockoutRefill) * time.Second,
		},
		Retention:       cfg.Codes.Retention,
		ClockSynced:     clockSynced(cfg.Codes.ClockSyncFile),
		TwoFactorWindow: time.Duration(cfg.Codes.TwoFactorWindow) * time.Second,
	})
	if err != nil {
		log.Error("code store unavailable: keypad closed", "err", err)
		return nil, lock.Unavailable(err)
	}
	for _, n := range s.Notices() {
		log.Warn("code store notice", "kind", n.Kind, "path", n.Path, "text", n.Text)
	}
	return s, codeslink.Codes{Store: s}
}

// auditSink writes every lock event to the audit log.
func auditSink(ctx context.Context, s *codes.Store, log *slog.Logger) func(lock.Event) {
	if s == nil {
		return nil
	}
	return codeslink.AuditSink(ctx, s, func(e lock.Event, err error) {
		log.Error("audit log write failed", "kind", e.Kind, "err", err)
	})
}

func doorOf(hw *board.Hardware) lock.Door {
	if hw.Door == nil {
		return nil
	}
	return hw.Door
}

func strikePulse(cfg config.Config, hw *board.Hardware) time.Duration {
	if hw.Strike == nil {
		return 0
	}
	return time.Duration(cfg.Bolt.Pulse) * time.Second
}

// loopAlive reports whether the core's loop turned within stale; the loop
// turns at least once a second while healthy.
func loopAlive(core *lock.Core, stale time.Duration) func() bool {
	return func() bool { return time.Since(core.Heartbeat()) < stale }
}

// clockSynced returns the configured clock-sync check, or nil for none.
func clockSynced(file string) func() bool {
	if file == "" {
		return nil
	}
	return func() bool {
		_, err := os.Stat(file)
		return err == nil
	}
}

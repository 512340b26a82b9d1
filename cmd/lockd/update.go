package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/internal/config"
	"lockd.dev/lockd/lock"
	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/bootsim"
	"lockd.dev/lockd/updater/bundle"
	"lockd.dev/lockd/updater/tryboot"
	"lockd.dev/lockd/updater/uboot"
)

// simSlotSize is the size of each file-backed slot of --sim.
const simSlotSize = 64 << 20

// quietFor is how long no key may have been pressed before a reboot.
const quietFor = 2 * time.Minute

// errTrialFailed ends lockd on a trial boot that did not get healthy in
// time: the unit's trial drop-in reboots on the failure, and the boot
// script counts it.
var errTrialFailed = errors.New("update: trial boot not healthy in time")

// updaterDeps is what the updater needs from the rest of the daemon.
type updaterDeps struct {
	core    *lock.Core
	storeOK bool
	busOK   *atomic.Bool
	log     *slog.Logger
	// stop ends the daemon with err (nil: a clean exit).
	stop func(err error)
	// hold is what the fleet server adds to the reboot's wait.
	hold *fleetHold
}

// newUpdater builds the updater [update] describes, or returns nil for
// bootloader = "none". With --sim each start of lockd is a power-on of
// the simulated machine: its boot script runs first.
func newUpdater(ctx context.Context, o options, cfg config.Config, d updaterDeps) (*updater.Updater, error) {
	uc := cfg.Update
	ucfg := updater.Config{
		StateFile: filepath.Join(o.stateDir, "update.json"),
		Slots:     map[updater.Slot]string{updater.SlotA: uc.SlotA, updater.SlotB: uc.SlotB},
		Cmdline:   uc.Cmdline, KeysDir: uc.Keys, Compatible: uc.Compatible,
		TryBoots: uc.TryBoots, CommitAfter: time.Duration(uc.CommitAfter) * time.Second,
		Policy: uc.Reboot, Log: d.log,
		Health: trialHealth(d), Quiet: d.hold.quiet(rebootQuiet(d.core.Status, time.Now)),
		GiveUp: func(reason string) { d.stop(fmt.Errorf("%w: %s", errTrialFailed, reason)) },
	}
	from, to, _ := config.ParseWindow(uc.Window) // checked by config.Check
	ucfg.Window = [2]int{int(from / time.Minute), int(to / time.Minute)}
	ucfg.BootedVersion = readVersion(uc.VersionFile)
	switch uc.Bootloader {
	case "none":
		return nil, nil
	case "sim":
		m, err := bootsim.Create(filepath.Join(o.stateDir, "sim-boot"), simSlotSize)
		if err != nil {
			return nil, err
		}
		b, err := m.Boot(ctx)
		if err != nil {
			return nil, err
		}
		d.log.Info("simulated power-on", "slot", b.Slot, "trial", b.Trial, "cmdline", b.Cmdline)
		if ucfg.Bootloader, err = m.Bootloader(nil); err != nil {
			return nil, err
		}
		ucfg.Slots = map[updater.Slot]string{updater.SlotA: m.SlotPath(updater.SlotA), updater.SlotB: m.SlotPath(updater.SlotB)}
		ucfg.Cmdline, ucfg.BootID = m.Cmdline(), m.BootID()
		if !o.configSet {
			// No config: keys next to the simulator's state, a model of
			// its own, and the version from the simulator's record.
			ucfg.KeysDir, ucfg.Compatible, ucfg.BootedVersion = filepath.Join(o.stateDir, "keys"), simCompatible, ""
			if err := os.MkdirAll(ucfg.KeysDir, 0o700); err != nil {
				return nil, fmt.Errorf("update: %w", err)
			}
		}
		// A simulated reboot ends lockd; starting it again is the next
		// power-on.
		bl := ucfg.Bootloader
		ucfg.Reboot = func(ctx context.Context, _ string) error {
			r := nextBoot(ctx, bl)
			d.log.Warn("simulated reboot: lockd exits; start it again to boot the next slot", "slot", r.next, "trial", r.trial)
			d.stop(r)
			return nil
		}
	case "uboot":
		bl, err := uboot.Open(uc.FwEnvConfig)
		if err != nil {
			return nil, err
		}
		ucfg.Bootloader, ucfg.Reboot = bl, logindReboot
	case "tryboot":
		bl, err := tryboot.New(tryboot.Config{Path: uc.Autoboot})
		if err != nil {
			return nil, err
		}
		ucfg.Bootloader, ucfg.Reboot = bl, logindReboot
	default:
		return nil, fmt.Errorf("update: unknown bootloader %q", uc.Bootloader)
	}
	return updater.New(ctx, ucfg)
}

// simCompatible is the model of the built-in simulated board.
const simCompatible = "lockd,sim"

// readVersion reads VERSION_ID from an os-release file, or the only line
// of a version file; "" when there is none that parses as a version.
func readVersion(path string) string {
	if path == "" {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var lines []string
	for sc.Scan() && len(lines) < 100 {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "VERSION_ID="); ok {
			v = strings.Trim(v, `"'`)
			if _, err := bundle.ParseVersion(v); err == nil {
				return v
			}
			return ""
		}
		if line != "" {
			lines = append(lines, line)
		}
	}
	if len(lines) == 1 {
		if _, err := bundle.ParseVersion(lines[0]); err == nil {
			return lines[0]
		}
	}
	return ""
}

// trialHealth is the gate a trial boot must pass for commit_after: the
// database opened and migrated, the hardware claimed with the limit
// switches agreeing, the D-Bus name owned, the loop alive (so watchdog
// pings flow), and no other health warning.
func trialHealth(d updaterDeps) func() error {
	alive := loopAlive(d.core, 3*time.Second)
	return func() error {
		st := d.core.Status()
		switch {
		case !d.storeOK:
			return errors.New("code store not open")
		case st.State == lock.StateUnknown || st.State == lock.StateJammed:
			return fmt.Errorf("bolt %s", st.State)
		case !d.busOK.Load():
			return errors.New("D-Bus name not owned")
		case !alive():
			return errors.New("lock loop not turning (watchdog pings stopped)")
		}
		for part, problem := range st.Health {
			if part != "update" {
				return fmt.Errorf("%s: %s", part, problem)
			}
		}
		return nil
	}
}

// rebootQuiet says what a reboot into an update waits for: "" when the
// bolt is locked, the door closed, no lockout runs, the keypad is idle and
// no key was pressed for two minutes. status is the lock core's.
func rebootQuiet(status func() lock.Status, now func() time.Time) func() string {
	return func() string {
		st := status()
		t := now()
		switch {
		case st.State != lock.StateLocked:
			return "the bolt to be locked (it is " + string(st.State) + ")"
		case st.DoorOpen:
			return "the door to close"
		case st.LockedOutUntil.After(t):
			return "the keypad lockout to end"
		case st.Mode != "idle" && st.Mode != "":
			return "the keypad to leave " + st.Mode + " mode"
		case !st.LastKey.IsZero() && t.Sub(st.LastKey) < quietFor:
			return "two minutes without a key press"
		}
		return ""
	}
}

// logindReboot asks systemd-logind for the reboot, with the bootloader's
// reboot parameter (the Pi's "0 tryboot"). lockd holds no CAP_SYS_BOOT; a
// polkit rule lets user lockd reboot.
func logindReboot(ctx context.Context, param string) error {
	conn, err := dbus.ConnectSystemBus(dbus.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("update: reboot: %w", err)
	}
	defer conn.Close()
	mgr := conn.Object("org.freedesktop.login1", "/org/freedesktop/login1")
	if param != "" {
		if err := mgr.CallWithContext(ctx, "org.freedesktop.login1.Manager.SetRebootParameter", 0, param).Err; err != nil {
			return fmt.Errorf("update: reboot parameter %q: %w", param, err)
		}
	}
	if err := mgr.CallWithContext(ctx, "org.freedesktop.login1.Manager.Reboot", 0, false).Err; err != nil {
		return fmt.Errorf("update: reboot: %w", err)
	}
	return nil
}

// mirrorUpdateWarning keeps the lock's "update" health warning (STATUS=,
// D-Bus, the LEDs) equal to the updater's LastError. It polls: the D-Bus
// service is the only reader of the updater's Changed channel.
func mirrorUpdateWarning(ctx context.Context, u *updater.Updater, core *lock.Core) {
	last := "\x00"
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if e := u.Status().LastError; e != last {
			core.SetWarning("update", e)
			last = e
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

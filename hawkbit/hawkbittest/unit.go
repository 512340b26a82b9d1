// Package hawkbittest is a simulated lock for the tests of the fleet
// client and for lockbench's fleet run: the simulated boot chain
// (updater/bootsim) with file-backed slots, the real updater, and the
// hawkBit client downloading through updater/httpsource, in-process.
// Power-ons and reboots are the caller's: a reboot the updater asks for
// is recorded, and PowerOn boots through the boot script again.
package hawkbittest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"lockd.dev/lockd/hawkbit"
	"lockd.dev/lockd/internal/retry"
	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/bootsim"
	"lockd.dev/lockd/updater/bundle/bundletest"
	"lockd.dev/lockd/updater/httpsource"
)

// Config describes one lock.
type Config struct {
	Dir, KeysDir, Compatible string
	// Factory is the version in slot A at the first power-on; images are
	// Image(version, ImageSize) in slots of SlotSize.
	Factory             string
	ImageSize, SlotSize int
	// Server, Tenant, ControllerID and Authorization are the client's.
	Server, Tenant, ControllerID, Authorization string
	Policy                                      string // default approve
	TryBoots                                    int    // default 1
	// Clock is the client's and the updater's; Download's waits go on
	// DownloadClock (default: the real clock).
	Clock, DownloadClock retry.Clock
	HTTP                 *http.Client
	Log                  *slog.Logger
}

// Unit is one simulated lock.
type Unit struct {
	cfg Config
	M   bootsim.Machine

	// Booted is the last power-on; U and C its updater and client.
	Booted bootsim.Booted
	U      *updater.Updater
	C      *hawkbit.Client

	mu      sync.Mutex
	health  error
	reboots int
	gaveUp  []string
	stop    context.CancelFunc
	done    chan struct{}
}

// Image is the root file system of a version (bundletest.Image): it
// announces the version, so a power-on knows which one a slot runs.
func Image(version string, size int) []byte { return bundletest.Image(version, size) }

// NewUnit makes the lock's disk: slot A holds the factory image.
func NewUnit(cfg Config) (*Unit, error) {
	if cfg.Policy == "" {
		cfg.Policy = updater.RebootApprove
	}
	if cfg.TryBoots == 0 {
		cfg.TryBoots = 1
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	m, err := bootsim.Create(filepath.Join(cfg.Dir, "boot"), int64(cfg.SlotSize))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(m.SlotPath(updater.SlotA), Image(cfg.Factory, cfg.ImageSize), 0o600); err != nil {
		return nil, err
	}
	if err := os.Truncate(m.SlotPath(updater.SlotA), int64(cfg.SlotSize)); err != nil {
		return nil, err
	}
	return &Unit{cfg: cfg, M: m}, nil
}

// SetHealth sets what lockd's health check says (nil: healthy).
func (u *Unit) SetHealth(err error) { u.mu.Lock(); u.health = err; u.mu.Unlock() }

// Reboots is how many reboots the updater asked for; GaveUp its trials
// given up.
func (u *Unit) Reboots() int { u.mu.Lock(); defer u.mu.Unlock(); return u.reboots }

// GaveUp returns the reasons of trials given up.
func (u *Unit) GaveUp() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.gaveUp...)
}

// PowerOn ends the running lockd, if any, boots through the boot script
// and starts the updater (its Run loop too) and a new client on the
// state both keep across boots. The client's Run is the caller's.
func (u *Unit) PowerOn(ctx context.Context) error {
	u.PowerOff()
	b, err := u.M.Boot(ctx)
	if err != nil {
		return err
	}
	u.Booted = b
	bl, err := u.M.Bootloader(nil)
	if err != nil {
		return err
	}
	version, err := versionIn(u.M.SlotPath(b.Slot))
	if err != nil {
		return err
	}
	data := filepath.Join(u.cfg.Dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}
	up, err := updater.New(ctx, updater.Config{
		Bootloader: bl, StateFile: filepath.Join(data, "update.json"),
		Slots:   map[updater.Slot]string{updater.SlotA: u.M.SlotPath(updater.SlotA), updater.SlotB: u.M.SlotPath(updater.SlotB)},
		Cmdline: u.M.Cmdline(), BootID: u.M.BootID(), Mountinfo: "/dev/null", KeysDir: u.cfg.KeysDir, Compatible: u.cfg.Compatible,
		BootedVersion: version, TryBoots: u.cfg.TryBoots, CommitAfter: time.Minute, Policy: u.cfg.Policy,
		Health: func() error { u.mu.Lock(); defer u.mu.Unlock(); return u.health },
		Quiet:  func() string { return "" },
		Reboot: func(context.Context, string) error { u.mu.Lock(); u.reboots++; u.mu.Unlock(); return nil },
		GiveUp: func(reason string) { u.mu.Lock(); u.gaveUp = append(u.gaveUp, reason); u.mu.Unlock() },
		Now:    u.cfg.Clock.Now, Log: u.cfg.Log,
	})
	if err != nil {
		return err
	}
	dl := u.cfg.DownloadClock
	if dl == nil {
		dl = retry.Real{}
	}
	c, err := hawkbit.New(hawkbit.Config{
		Server: u.cfg.Server, Tenant: u.cfg.Tenant, ControllerID: u.cfg.ControllerID, Authorization: u.cfg.Authorization,
		Client: u.cfg.HTTP, StateFile: filepath.Join(data, "hawkbit.json"), Updater: up, Compatible: u.cfg.Compatible,
		Policy: u.cfg.Policy, Clock: u.cfg.Clock, Log: u.cfg.Log,
		Open: func(ctx context.Context, url string, h http.Header) (updater.Source, error) {
			return httpsource.Open(ctx, url, httpsource.Config{Client: u.cfg.HTTP, Header: h, Clock: dl, Stall: 2 * time.Second, Log: u.cfg.Log})
		},
	})
	if err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(context.Background())
	u.U, u.C, u.stop, u.done = up, c, cancel, make(chan struct{})
	go func() { defer close(u.done); up.Run(rctx) }()
	return nil
}

// PowerOff ends the updater's loop.
func (u *Unit) PowerOff() {
	if u.stop != nil {
		u.stop()
		<-u.done
		u.stop = nil
	}
}

// versionIn reads the version an Image in a slot announces.
func versionIn(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b := make([]byte, 64)
	if _, err := f.ReadAt(b, 0); err != nil {
		return "", err
	}
	if string(b[:7]) != "ROOTFS " {
		return "", errors.New("hawkbittest: the booted slot holds no image")
	}
	for i := 7; i < len(b); i++ {
		if b[i] == 0 {
			return string(b[7:i]), nil
		}
	}
	return "", fmt.Errorf("hawkbittest: no version in %s", path)
}

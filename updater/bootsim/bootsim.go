// Package bootsim is the simulated boot chain of --sim and of the updater's
// fault tests: two file-backed slots, a U-Boot environment in a file
// (libubootenv format, read by fw_printenv too) and Boot, which applies
// the boot-script rule of DESIGN.md to it exactly as the shipped boot.cmd
// does and writes the kernel command line and boot id the booted system
// would see.
package bootsim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/uboot"
	"lockd.dev/lockd/updater/ubootenv"
)

// EnvSize is the size of the simulated environment, that of the Pi.
const EnvSize = 0x4000

// Machine is a simulated unit's boot storage under one directory.
type Machine struct {
	Dir string
}

// Paths of the simulated unit's files.
func (m Machine) SlotPath(s updater.Slot) string {
	return filepath.Join(m.Dir, "slot-"+string(s)+".img")
}

// EnvPath is the environment file (uboot.env).
func (m Machine) EnvPath() string { return filepath.Join(m.Dir, "uboot.env") }

// FwEnvConfig is the fw_env.config naming EnvPath.
func (m Machine) FwEnvConfig() string { return filepath.Join(m.Dir, "fw_env.config") }

// Cmdline is the kernel command line of the last Boot.
func (m Machine) Cmdline() string { return filepath.Join(m.Dir, "cmdline") }

// BootID is the boot id of the last Boot.
func (m Machine) BootID() string { return filepath.Join(m.Dir, "boot_id") }

// Create makes what is missing of a fresh unit: both slots as sparse files
// of slotSize bytes, the fw_env.config and an environment committing slot
// A. Existing files are left alone, so a second start keeps the state.
func Create(dir string, slotSize int64) (Machine, error) {
	m := Machine{Dir: dir}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return m, fmt.Errorf("bootsim: %w", err)
	}
	for _, s := range []updater.Slot{updater.SlotA, updater.SlotB} {
		f, err := os.OpenFile(m.SlotPath(s), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return m, fmt.Errorf("bootsim: %w", err)
		}
		err = f.Truncate(slotSize)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return m, fmt.Errorf("bootsim: %w", err)
		}
	}
	conf := fmt.Sprintf("# simulated unit: one copy, as uboot.env on the Pi's boot partition\n%s 0x0000 0x%x\n", m.EnvPath(), EnvSize)
	if err := os.WriteFile(m.FwEnvConfig(), []byte(conf), 0o600); err != nil {
		return m, fmt.Errorf("bootsim: %w", err)
	}
	if _, err := os.Stat(m.EnvPath()); errors.Is(err, fs.ErrNotExist) {
		if err := os.WriteFile(m.EnvPath(), make([]byte, EnvSize), 0o600); err != nil {
			return m, fmt.Errorf("bootsim: %w", err)
		}
		env, err := m.env()
		if err != nil {
			return m, err
		}
		defaults := map[string]string{"bootcmd": "run lockd_boot", uboot.VarSlot: "A"}
		if err := env.WriteAll(context.Background(), defaults); err != nil {
			return m, fmt.Errorf("bootsim: %w", err)
		}
	}
	return m, nil
}

func (m Machine) env(opts ...ubootenv.Option) (*ubootenv.Env, error) {
	cfg, err := ubootenv.ParseConfig(m.FwEnvConfig())
	if err != nil {
		return nil, fmt.Errorf("bootsim: %w", err)
	}
	env, err := ubootenv.Open(cfg, append([]ubootenv.Option{ubootenv.WithLockFile("")}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("bootsim: %w", err)
	}
	return env, nil
}

// Bootloader returns the U-Boot backend over the simulated environment,
// its writes through st (nil: the real files).
func (m Machine) Bootloader(st ubootenv.Storage) (*uboot.Bootloader, error) {
	var opts []ubootenv.Option
	if st != nil {
		opts = append(opts, ubootenv.WithStorage(st))
	}
	env, err := m.env(opts...)
	if err != nil {
		return nil, err
	}
	return uboot.New(env), nil
}

// Booted is what one simulated boot chose.
type Booted struct {
	Slot    updater.Slot
	Trial   bool
	Cmdline string
}

// Rule is the boot-script rule of DESIGN.md on the environment's
// variables: boot lockd_try while lockd_try_left > 0, decrementing it
// first; otherwise clear lockd_try and boot lockd_slot; anything unset or
// invalid boots the committed slot, and an invalid lockd_slot is A. It
// returns the slot, whether it is a trial, and the variables the script
// saves (nil when it saves nothing; "" deletes).
func Rule(vars map[string]string) (slot updater.Slot, trial bool, save map[string]string) {
	committed, err := updater.ParseSlot(vars[uboot.VarSlot])
	if err != nil {
		committed = updater.SlotA
	}
	try := vars[uboot.VarTry]
	left := vars[uboot.VarTryLeft]
	if t, err := updater.ParseSlot(try); err == nil && len(left) == 1 && left[0] >= '1' && left[0] <= '9' {
		return t, true, map[string]string{uboot.VarTryLeft: string(left[0] - 1)}
	}
	if try != "" {
		return committed, false, map[string]string{uboot.VarTry: ""}
	}
	return committed, false, nil
}

// Boot is one power-on: it applies Rule to the environment (saving what
// the script saves), then writes the command line and a new boot id. An
// unreadable environment boots A, as U-Boot falls back to its built-in
// default environment.
func (m Machine) Boot(ctx context.Context) (Booted, error) {
	env, err := m.env()
	if err != nil {
		return Booted{}, err
	}
	vars, err := env.Read(ctx)
	if err != nil {
		vars = map[string]string{}
	}
	slot, trial, save := Rule(vars)
	if save != nil && err == nil {
		if err := env.Update(ctx, save); err != nil {
			return Booted{}, fmt.Errorf("bootsim: boot script saveenv: %w", err)
		}
	}
	b := Booted{Slot: slot, Trial: trial,
		Cmdline: fmt.Sprintf("console=ttyS0 root=%s rootwait lockd.slot=%s", m.SlotPath(slot), slot)}
	if trial {
		b.Cmdline += " lockd.trial=1"
	}
	var id [16]byte
	rand.Read(id[:])
	if err := os.WriteFile(m.Cmdline(), []byte(b.Cmdline+"\n"), 0o600); err != nil {
		return Booted{}, fmt.Errorf("bootsim: %w", err)
	}
	if err := os.WriteFile(m.BootID(), []byte(hex.EncodeToString(id[:])+"\n"), 0o600); err != nil {
		return Booted{}, fmt.Errorf("bootsim: %w", err)
	}
	return b, nil
}

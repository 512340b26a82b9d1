package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The simulated GPIO chip: the kernel's gpio-sim, made through configfs
// with the line names of the Raspberry Pi's header (GPIO0 … GPIO27, as
// on the Pi's /dev/gpiochip0), so lockd's shipped pin names resolve
// unchanged. Each line has gpio-sim's sysfs files: `pull` (what the
// outside world does to an input: pull-up, pull-down) and `value` (what
// the line reads, or drives when it is an output).

const (
	simConfigfs = "/sys/kernel/config/gpio-sim"
	simDevice   = "lockd-e2e"
	simLines    = 28
)

// chip is the live simulated chip.
type chip struct {
	dev   *os.File // /dev/gpiochipN, for line info and its watch
	sysfs string   // /sys/devices/platform/gpio-sim.N/gpiochipN
}

// makeChip creates the chip (configfs is mounted if it is not) and opens it.
func makeChip() (*chip, error) {
	if _, err := os.Stat(simConfigfs); os.IsNotExist(err) {
		if err := mount("configfs", "/sys/kernel/config", "configfs"); err != nil {
			return nil, err
		}
	}
	dev := filepath.Join(simConfigfs, simDevice)
	bank := filepath.Join(dev, "gpio-bank0")
	if err := os.MkdirAll(bank, 0o755); err != nil {
		return nil, fmt.Errorf("e2e-guest: configfs: %w (is gpio-sim loaded?)", err)
	}
	set := func(path, v string) error {
		if err := os.WriteFile(path, []byte(v), 0o644); err != nil {
			return fmt.Errorf("e2e-guest: configfs: %w", err)
		}
		return nil
	}
	if err := set(filepath.Join(bank, "num_lines"), strconv.Itoa(simLines)); err != nil {
		return nil, err
	}
	if err := set(filepath.Join(bank, "label"), "lockd-e2e-pi-header"); err != nil {
		return nil, err
	}
	for i := range simLines {
		line := filepath.Join(bank, fmt.Sprintf("line%d", i))
		if err := os.MkdirAll(line, 0o755); err != nil {
			return nil, fmt.Errorf("e2e-guest: configfs: %w", err)
		}
		if err := set(filepath.Join(line, "name"), fmt.Sprintf("GPIO%d", i)); err != nil {
			return nil, err
		}
	}
	if err := set(filepath.Join(dev, "live"), "1"); err != nil {
		return nil, err
	}
	name, err1 := os.ReadFile(filepath.Join(bank, "chip_name"))
	devName, err2 := os.ReadFile(filepath.Join(dev, "dev_name"))
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("e2e-guest: configfs: chip name: %v, %v", err1, err2)
	}
	c := &chip{sysfs: filepath.Join("/sys/devices/platform", strings.TrimSpace(string(devName)), strings.TrimSpace(string(name)))}
	var err error
	if c.dev, err = os.Open("/dev/" + strings.TrimSpace(string(name))); err != nil {
		return nil, fmt.Errorf("e2e-guest: %w", err)
	}
	return c, nil
}

// offset is the line of a pin name ("GPIO17" -> 17).
func offset(name string) (uint32, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(name, "GPIO"))
	if err != nil || !strings.HasPrefix(name, "GPIO") || n < 0 || n >= simLines {
		return 0, fmt.Errorf("e2e-guest: pin %q is not GPIO0..GPIO%d", name, simLines-1)
	}
	return uint32(n), nil
}

// setPull writes a line's `pull`: what the world does to it.
func (c *chip) setPull(off uint32, up bool) error {
	v := "pull-down"
	if up {
		v = "pull-up"
	}
	p := filepath.Join(c.sysfs, fmt.Sprintf("sim_gpio%d", off), "pull")
	if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
		return fmt.Errorf("e2e-guest: %w", err)
	}
	return nil
}

// valueFile opens a line's `value` for reading again and again (pread).
func (c *chip) valueFile(off uint32) (*os.File, error) {
	f, err := os.Open(filepath.Join(c.sysfs, fmt.Sprintf("sim_gpio%d", off), "value"))
	if err != nil {
		return nil, fmt.Errorf("e2e-guest: %w", err)
	}
	return f, nil
}

// readValue reads a line's level from its open `value` file.
func readValue(f *os.File) (bool, error) {
	var b [4]byte
	n, err := f.ReadAt(b[:], 0)
	if n == 0 {
		return false, fmt.Errorf("e2e-guest: read %s: %w", f.Name(), err)
	}
	return b[0] == '1', nil
}

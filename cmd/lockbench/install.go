package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/uboot"
	"lockd.dev/lockd/updater/ubootenv"
)

const benchCompatible = "lockd,bench"

// installBench measures issue 5's figures on loop-device slots: the
// install of a 512 MiB image against the floor `zstd -dc | dd
// conv=fdatasync` + `sha256sum` of the slot, the peak RSS of the lockd
// process during 64 MiB and 512 MiB installs, and key-to-bolt latency
// while an install runs.
func installBench(ctx context.Context, bin string, runs, presses int) error {
	if os.Geteuid() != 0 {
		fmt.Println("install: SKIPPED: loop devices need root (sudo make bench)")
		return nil
	}
	for _, tool := range append([]string{"sgdisk", "losetup", "partx", "blkdiscard", "dd", "dbus-daemon"}, raucTools...) {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found: sudo make deps", tool)
		}
	}
	lockctl, err := buildLockctl(filepath.Dir(bin))
	if err != nil {
		return err
	}
	for _, mib := range []int{64, 512} {
		if err := installSize(ctx, bin, lockctl, mib, runs); err != nil {
			return err
		}
	}
	for _, p := range changePatterns {
		if err := adaptiveBench(ctx, bin, lockctl, 512, runs, p); err != nil {
			return err
		}
	}
	return installLatency(ctx, bin, presses)
}

func buildLockctl(dir string) (string, error) {
	out := filepath.Join(dir, "lockctl")
	if b, err := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./cmd/lockctl").CombinedOutput(); err != nil {
		return "", fmt.Errorf("build lockctl: %v\n%s", err, b)
	}
	return out, nil
}

// benchUnit is a unit on a loop device: slot A and B partitions of an
// image's size, a U-Boot env file, keys, a bundle.
type benchUnit struct {
	dir, bundle, img string
	slots            [2]string
	conf             string // lockd.toml
	detach           func()
	rauc             *raucUnit
}

func newBenchUnit(ctx context.Context, bin string, mib int) (*benchUnit, error) {
	dir, err := os.MkdirTemp("", "lockbench-install")
	if err != nil {
		return nil, err
	}
	u := &benchUnit{dir: dir}
	fail := func(err error) (*benchUnit, error) { u.close(); return nil, err }
	img := filepath.Join(dir, "rootfs.img")
	if err := writeRootfs(img, int64(mib)<<20); err != nil {
		return fail(err)
	}
	keys := filepath.Join(dir, "keys")
	os.Mkdir(keys, 0o700)
	u.bundle = filepath.Join(dir, "update.lockd")
	u.img = img
	for _, args := range [][]string{
		{bin, "bundle", "keygen", "-o", filepath.Join(dir, "vendor")},
		{"cp", filepath.Join(dir, "vendor.pub"), keys},
	} {
		if out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput(); err != nil {
			return fail(fmt.Errorf("%s: %v\n%s", strings.Join(args, " "), err, out))
		}
	}
	if err := u.makeBundle(ctx, bin, img, "2.0.0", u.bundle); err != nil {
		return fail(err)
	}
	disk := filepath.Join(dir, "disk.img")
	f, err := os.Create(disk)
	if err != nil {
		return fail(err)
	}
	f.Truncate(int64(2*mib+4) << 20)
	f.Close()
	size := fmt.Sprintf("+%dM", mib)
	if out, err := exec.Command("sgdisk", "--clear", "--new=1:0:"+size, "--new=2:0:"+size, disk).CombinedOutput(); err != nil {
		return fail(fmt.Errorf("sgdisk: %v\n%s", err, out))
	}
	out, err := exec.Command("losetup", "--find", "--show", disk).Output()
	if err != nil {
		return fail(fmt.Errorf("losetup: %v", err))
	}
	dev := strings.TrimSpace(string(out))
	u.detach = func() {
		exec.Command("partx", "-d", dev).Run()
		exec.Command("losetup", "-d", dev).Run()
	}
	exec.Command("partx", "-d", dev).Run() // stale partitions of a previous user
	if out, err := exec.Command("partx", "-a", dev).CombinedOutput(); err != nil {
		return fail(fmt.Errorf("partx -a: %v\n%s", err, out))
	}
	u.slots = [2]string{dev + "p1", dev + "p2"}
	for _, p := range u.slots {
		for i := 0; ; i++ {
			if _, err := os.Stat(p); err == nil {
				break
			}
			if i == 100 {
				return fail(fmt.Errorf("%s did not appear", p))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	envFile := filepath.Join(dir, "uboot.env")
	os.WriteFile(envFile, make([]byte, 0x4000), 0o600)
	fwConf := filepath.Join(dir, "fw_env.config")
	os.WriteFile(fwConf, []byte(envFile+" 0x0 0x4000\n"), 0o600)
	cfg, err := ubootenv.ParseConfig(fwConf)
	if err != nil {
		return fail(err)
	}
	env, err := ubootenv.Open(cfg, ubootenv.WithLockFile(""))
	if err != nil {
		return fail(err)
	}
	if err := env.WriteAll(ctx, map[string]string{"bootcmd": "run lockd_boot", uboot.VarSlot: "A"}); err != nil {
		return fail(err)
	}
	cmdline := filepath.Join(dir, "cmdline")
	os.WriteFile(cmdline, []byte("root="+u.slots[0]+" lockd.slot=A\n"), 0o600)
	if u.rauc, err = newRaucUnit(ctx, dir, img, u.slots); err != nil {
		return fail(err)
	}
	u.conf = filepath.Join(dir, "lockd.toml")
	toml := fmt.Sprintf("[update]\ncompatible = %q\nkeys = %q\nbootloader = \"uboot\"\nfw_env_config = %q\nslot_a = %q\nslot_b = %q\ncmdline = %q\nversion_file = \"\"\n",
		benchCompatible, keys, fwConf, u.slots[0], u.slots[1], cmdline)
	if err := os.WriteFile(u.conf, []byte(toml), 0o600); err != nil {
		return fail(err)
	}
	return u, nil
}

// makeBundle signs img as version into out with the unit's vendor key.
func (u *benchUnit) makeBundle(ctx context.Context, bin, img, version, out string) error {
	args := []string{bin, "bundle", "create", "--key", filepath.Join(u.dir, "vendor.key"), "--compatible", benchCompatible, "--version", version, img, "-o", out}
	if b, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}

func (u *benchUnit) close() {
	if u.rauc != nil {
		u.rauc.close()
	}
	if u.detach != nil {
		u.detach()
	}
	os.RemoveAll(u.dir)
}

// writeRootfs writes size bytes that compress like a root file system:
// two fifths incompressible (binaries, already-compressed data), the rest
// text-like.
func writeRootfs(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("the of lock bolt keypad code door motor slot update boot kernel usr lib share etc config daemon systemd dbus init module firmware")
	block := make([]byte, 1<<20)
	for off, i := int64(0), 0; off < size; off, i = off+int64(len(block)), i+1 {
		if i%5 < 2 {
			for j := 0; j < len(block); j += 8 {
				v := rng.Uint64()
				for k := 0; k < 8; k++ {
					block[j+k] = byte(v >> (8 * k))
				}
			}
		} else {
			b := block[:0]
			for len(b) < len(block) {
				b = append(b, words[rng.IntN(len(words))]...)
				b = append(b, " \n"[rng.IntN(2)])
			}
			block = block[:cap(block)]
		}
		n := min(int64(len(block)), size-off)
		if _, err := w.Write(block[:n]); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// installLatency measures key-to-bolt latency in a process that installs
// 512 MiB images into a loop-device slot over and over, as lockd would.
func installLatency(ctx context.Context, bin string, presses int) error {
	bu, err := newBenchUnit(ctx, bin, 512)
	if err != nil {
		return err
	}
	defer bu.close()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	bl, err := uboot.Open(filepath.Join(bu.dir, "fw_env.config"), ubootenv.WithLockFile(""))
	if err != nil {
		return err
	}
	up, err := updater.New(ctx, updater.Config{Bootloader: bl, StateFile: filepath.Join(bu.dir, "update.json"),
		Slots:   map[updater.Slot]string{updater.SlotA: bu.slots[0], updater.SlotB: bu.slots[1]},
		Cmdline: filepath.Join(bu.dir, "cmdline"), KeysDir: filepath.Join(bu.dir, "keys"),
		Compatible: benchCompatible, BootedVersion: "1.0.0", Log: quiet})
	if err != nil {
		return err
	}
	installs := 0
	var loadErr error
	load := func(ctx context.Context) {
		for ctx.Err() == nil {
			f, err := os.Open(bu.bundle)
			if err != nil {
				loadErr = err
				return
			}
			if err := up.Install(ctx, f, updater.InstallOptions{}); err != nil {
				if ctx.Err() == nil {
					loadErr = err
				}
				return
			}
			for op := up.Status().Operation; op != "pending" && op != "idle"; op = up.Status().Operation {
				select {
				case <-up.Changed():
				case <-time.After(50 * time.Millisecond):
				case <-ctx.Done():
					return
				}
			}
			installs++
			_ = up.Reject(context.Background())
		}
	}
	lat, err := keyToBoltSamples(ctx, presses, 10_000, load)
	if err == nil {
		err = loadErr
	}
	if err != nil {
		return err
	}
	fmt.Printf("key-to-bolt latency during 512 MiB installs (%d presses, %d installs completed meanwhile, 10000 codes): median %v  p99 %v  max %v\n",
		presses, installs, percentile(lat, 50).Round(time.Microsecond), percentile(lat, 99).Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond))
	return nil
}

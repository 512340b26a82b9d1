package updater_test

import (
	"bytes"
	"context"
	"fmt"

	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lockd.dev/lockd/internal/testtool"
	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/uboot"
	"lockd.dev/lockd/updater/ubootenv"
)

// loopDisk is a disk image with a GPT (sgdisk) attached to a loop device,
// its partitions mapped by partx. Cleanup detaches exactly what it
// attached.
type loopDisk struct {
	dev   string
	parts []string
}

func attachDisk(t *testing.T, size int64, parts ...string) loopDisk {
	t.Helper()
	testtool.NeedRoot(t, "installing into a loop device")
	sgdisk := testtool.Need(t, "sgdisk", "gdisk")
	losetup := testtool.Need(t, "losetup", "mount")
	partx := testtool.Need(t, "partx", "util-linux")
	img := filepath.Join(t.TempDir(), "disk.img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	args := []string{"--clear"}
	for i, p := range parts {
		args = append(args, fmt.Sprintf("--new=%d:0:%s", i+1, p), fmt.Sprintf("--change-name=%d:part%d", i+1, i+1))
	}
	if out, err := exec.Command(sgdisk, append(args, img)...).CombinedOutput(); err != nil {
		t.Fatalf("sgdisk: %v\n%s", err, out)
	}
	out, err := exec.Command(losetup, "--find", "--show", img).Output()
	if err != nil {
		t.Fatalf("losetup: %v", err)
	}
	d := loopDisk{dev: strings.TrimSpace(string(out))}
	if !strings.HasPrefix(d.dev, "/dev/loop") {
		t.Fatalf("losetup printed %q", d.dev)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(partx, "-d", d.dev).CombinedOutput(); err != nil {
			t.Logf("partx -d %s: %v: %s", d.dev, err, out)
		}
		if out, err := exec.Command(losetup, "-d", d.dev).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v: %s", d.dev, err, out)
		}
	})
	// A loop device freed by someone else may still carry their
	// partitions (the kernel drops them only with partscan): clear them,
	// then map ours.
	_ = exec.Command(partx, "-d", d.dev).Run()
	if out, err := exec.Command(partx, "-a", d.dev).CombinedOutput(); err != nil {
		t.Fatalf("partx -a %s: %v: %s", d.dev, err, out)
	}
	for i := range parts {
		p := fmt.Sprintf("%sp%d", d.dev, i+1)
		// The node appears when udev (or devtmpfs) catches up.
		for w := 0; ; w++ {
			if _, err := os.Stat(p); err == nil {
				break
			}
			if w == 100 {
				t.Fatalf("%s did not appear after partx -a", p)
			}
			time.Sleep(20 * time.Millisecond)
		}
		d.parts = append(d.parts, p)
	}
	return d
}

// TestInstallLoopDevice installs into slot B on a real block device (GPT
// partition of a loop device) with the environment, redundant, on a third
// partition, then checks the slot byte for byte and the environment with
// fw_printenv.
func TestInstallLoopDevice(t *testing.T) {
	fwPrintenv := testtool.Need(t, "fw_printenv", "libubootenv-tool")
	d := attachDisk(t, 24<<20, "+8M", "+8M", "+1M")
	ctx := context.Background()
	r := newRig(t)
	conf := filepath.Join(r.dir, "fw_env.config")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("%s 0x0 0x4000\n%s 0x4000 0x4000\n", d.parts[2], d.parts[2])), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := ubootenv.ParseConfig(conf)
	if err != nil {
		t.Fatal(err)
	}
	env, err := ubootenv.Open(cfg, ubootenv.WithLockFile(""))
	if err != nil {
		t.Fatal(err)
	}
	if err := env.WriteAll(ctx, map[string]string{"bootcmd": "run lockd_boot", uboot.VarSlot: "A"}); err != nil {
		t.Fatal(err)
	}
	// Slot A holds v1 (as the factory wrote it).
	if err := os.WriteFile(d.parts[0], r.versions["1.0.0"], 0); err != nil {
		t.Fatal(err)
	}
	cmdline := filepath.Join(r.dir, "cmdline")
	if err := os.WriteFile(cmdline, []byte("root="+d.parts[0]+" rootwait lockd.slot=A\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bootID := filepath.Join(r.dir, "boot_id")
	if err := os.WriteFile(bootID, []byte("loop-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	u, err := updater.New(ctx, updater.Config{
		Bootloader: uboot.New(env), StateFile: r.state,
		Slots:   map[updater.Slot]string{updater.SlotA: d.parts[0], updater.SlotB: d.parts[1]},
		Cmdline: cmdline, BootID: bootID, KeysDir: r.keys, Compatible: compatible, BootedVersion: "1.0.0",
		Policy: updater.RebootAuto, Quiet: func() string { return "" }, Log: testLog(t),
		Reboot: func(context.Context, string) error {
			r.mu.Lock()
			r.reboots = append(r.reboots, "x")
			r.mu.Unlock()
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := u.Status(); s.Operation != "idle" {
		t.Fatalf("status %+v", s)
	}
	// The image is larger than the rig's file slots; the device is 8 MiB.
	p := r.bundle("2.0.0", bundleOpts{size: 7<<20 + 12345})
	if err := install(t, u, p, updater.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 7<<20+12345)
	f, err := os.Open(d.parts[1])
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.ReadAt(got, 0)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, r.versions["2.0.0"]) {
		t.Fatal("slot B on the loop device does not hold the image")
	}
	u.Step(ctx) // auto policy, quiet lock: arm and reboot
	if n := len(r.takeReboots()); n != 1 {
		t.Fatalf("%d reboots: %+v", n, u.Status())
	}
	out, err := exec.Command(fwPrintenv, "-c", conf, "-f", filepath.Join(r.dir, "none")).CombinedOutput()
	if err != nil {
		t.Fatalf("fw_printenv: %v\n%s", err, out)
	}
	want := "bootcmd=run lockd_boot\nlockd_slot=A\nlockd_try=B\nlockd_try_left=3\n"
	if string(out) != want {
		t.Fatalf("fw_printenv:\n%s\nwant\n%s", out, want)
	}
	// A mounted slot is refused, found by its device number.
	mkfs := testtool.Need(t, "mkfs.ext4", "e2fsprogs")
	if out, err := exec.Command(mkfs, "-q", "-F", d.parts[1]).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v\n%s", err, out)
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-o", "ro", d.parts[1], mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v\n%s", err, out)
	}
	defer func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount: %v\n%s", err, out)
		}
	}()
	if err := updater.CheckNotInUse(d.parts[1], "/proc/self/mountinfo"); err == nil || !strings.Contains(err.Error(), "mounted at "+mnt) {
		t.Fatalf("mounted slot: %v", err)
	}
	if err := updater.CheckNotInUse(d.parts[0], "/proc/self/mountinfo"); err != nil {
		t.Fatalf("unmounted slot: %v", err)
	}
}

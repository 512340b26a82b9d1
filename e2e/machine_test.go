package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"

	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"lockd.dev/lockd/internal/testtool"
	"lockd.dev/lockd/internal/uboottest"
	"lockd.dev/lockd/updater/ubootenv"
)

const (
	// bootScript is the shipped boot script.
	bootScript = "yocto/meta-lockd/dynamic-layers/raspberrypi/recipes-bsp/rpi-u-boot-scr/files/boot.cmd.in"
	mib        = 1 << 20
)

// The disk: MBR, p1 FAT boot, p2 slot A, p3 slot B, p4 data, as
// boot.cmd.in expects (slot A partition 2, slot B partition 3).
var partitions = []struct {
	start, size int64
	typ         byte
}{
	{1 * mib, 16 * mib, 0x0c},
	{17 * mib, 160 * mib, 0x83},
	{177 * mib, 160 * mib, 0x83},
	{337 * mib, 32 * mib, 0x83},
}

const diskSize = 369 * mib

// verbose (LOCKD_E2E_VERBOSE=1) logs every console, each line with the
// time since power-on.
var verbose = os.Getenv("LOCKD_E2E_VERBOSE") != ""

// board is what every unit shares: U-Boot in flash, its default
// environment, the compiled boot script.
type board struct {
	a        *assets
	dir      string
	flash0   string
	scr      string
	defaults map[string]string
	data     string // an empty ext4 data partition
	units    int
	mu       sync.Mutex
	pace     *pacer
}

func newBoard(t testing.TB, a *assets) *board {
	t.Helper()
	bin, err := os.ReadFile(a.ubootBin)
	if err != nil {
		t.Fatal(err)
	}
	// Under /tmp: QEMU's -drive cannot take the commas of some paths.
	dir, err := os.MkdirTemp("", "lockd-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	b := &board{a: a, dir: dir, defaults: uboottest.DefaultEnv(t, bin)}
	b.flash0 = filepath.Join(dir, "flash0.img")
	uboottest.WriteSized(t, b.flash0, bin, uboottest.FlashSize)
	b.scr = compileScript(t, dir)
	empty := filepath.Join(dir, "data-tree")
	os.MkdirAll(empty, 0o755)
	b.data = filepath.Join(dir, "data.ext4")
	run(t, testtool.Need(t, "mkfs.ext4", "e2fsprogs"), "-q", "-F", "-L", "data", "-E", "root_owner=0:0", "-d", empty, b.data, "32M")
	return b
}

// compileScript compiles the shipped boot.cmd.in as rpi-u-boot-scr does
// (Image, booti on arm64), with the one substitution the QEMU board
// needs: the storage device (mmc → virtio). Nothing else changes.
func compileScript(t testing.TB, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, bootScript))
	if err != nil {
		t.Fatal(err)
	}
	src := strings.NewReplacer("@@KERNEL_IMAGETYPE@@", "Image", "@@KERNEL_BOOTCMD@@", "booti").Replace(string(b))
	if n := strings.Count(src, "\nlk_devtype=mmc\n"); n != 1 {
		t.Fatalf("boot.cmd.in: lk_devtype=mmc occurs %d times, want once", n)
	}
	src = strings.Replace(src, "\nlk_devtype=mmc\n", "\nlk_devtype=virtio\n", 1)
	cmd, scr := filepath.Join(dir, "boot.cmd"), filepath.Join(dir, "boot.scr")
	writeFile(t, cmd, []byte(src), 0o644)
	run(t, testtool.Need(t, "mkimage", "u-boot-tools"), "-A", "arm64", "-T", "script", "-C", "none", "-n", "lockd boot script", "-d", cmd, scr)
	return scr
}

// unit is one lock: a disk image, power-cycled again and again.
type unit struct {
	b    *board
	t    testing.TB
	dir  string
	disk string
	n    int // power cycles so far
}

// newUnit makes a factory-fresh unit: v1 in slot A, slot B empty, an
// empty data partition, and a uboot.env of U-Boot's defaults with
// lockd_slot=A (written by lockd's own ubootenv code).
func (b *board) newUnit(t testing.TB) *unit {
	t.Helper()
	return b.newUnitWith(t, b.a.slots["v1"])
}

// newUnitWith is newUnit with slotA (an image) in slot A.
func (b *board) newUnitWith(t testing.TB, slotA string) *unit {
	t.Helper()
	u := b.unitDir(t)
	fat := filepath.Join(u.dir, "fat.img")
	uboottest.WriteSized(t, fat, nil, partitions[0].size)
	run(t, testtool.Need(t, "mkfs.vfat", "dosfstools"), "-n", "BOOT", fat)
	run(t, "mcopy", "-i", fat, b.scr, "::boot.scr")
	envFile := filepath.Join(u.dir, "uboot.env.in")
	uboottest.WriteSized(t, envFile, nil, envSize)
	env := maps.Clone(b.defaults)
	env["lockd_slot"] = "A"
	if err := openEnv(t, envFile).WriteAll(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	run(t, "mcopy", "-i", fat, envFile, "::uboot.env")

	f := u.createDisk()
	defer f.Close()
	mbr := make([]byte, 512)
	for i, p := range partitions {
		e := mbr[446+16*i : 462+16*i]
		e[4] = p.typ
		binary.LittleEndian.PutUint32(e[8:], uint32(p.start/512))
		binary.LittleEndian.PutUint32(e[12:], uint32(p.size/512))
	}
	mbr[446] = 0x80 // p1 bootable
	binary.LittleEndian.PutUint32(mbr[440:], 0x10c4d0e2)
	mbr[510], mbr[511] = 0x55, 0xaa
	if _, err := f.WriteAt(mbr, 0); err != nil {
		t.Fatal(err)
	}
	for i, img := range []string{fat, slotA, "", b.data} {
		if img != "" {
			copySparse(t, f, partitions[i].start, partitions[i].size, img)
		}
	}
	os.Remove(fat)
	return u
}

// unitDir makes the directory of a unit with no disk yet, removed after
// t unless t failed (then kept in LOCKD_E2E_KEEP if set).
func (b *board) unitDir(t testing.TB) *unit {
	t.Helper()
	b.mu.Lock()
	b.units++
	n := b.units
	b.mu.Unlock()
	u := &unit{b: b, t: t, dir: filepath.Join(b.dir, fmt.Sprintf("unit%d", n))}
	if err := os.Mkdir(u.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			os.RemoveAll(u.dir)
		} else if keep := os.Getenv("LOCKD_E2E_KEEP"); keep != "" {
			os.Rename(u.dir, filepath.Join(keep, strings.ReplaceAll(t.Name(), "/", "_")))
		}
	})
	return u
}

// clone is a unit whose disk is a copy of u's as it is now, so that
// scenarios that begin alike run the beginning once. A subtest that takes
// it over sets its t.
func (u *unit) clone() *unit {
	u.t.Helper()
	c := u.b.unitDir(u.t)
	c.n = u.n
	f := c.createDisk()
	defer f.Close()
	copySparse(u.t, f, 0, diskSize, u.disk)
	if err := f.Close(); err != nil {
		u.t.Fatal(err)
	}
	return c
}

// createDisk creates u's disk image, diskSize bytes of zeros (sparse).
func (u *unit) createDisk() *os.File {
	u.t.Helper()
	u.disk = filepath.Join(u.dir, "disk.img")
	f, err := os.Create(u.disk)
	if err != nil {
		u.t.Fatal(err)
	}
	if err := f.Truncate(diskSize); err != nil {
		f.Close()
		u.t.Fatal(err)
	}
	return f
}

// copySparse writes the file img into f at off, skipping zero blocks.
func copySparse(t testing.TB, f *os.File, off, max int64, img string) {
	t.Helper()
	src, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if fi, _ := src.Stat(); fi.Size() > max {
		t.Fatalf("%s is %d bytes, its partition %d", img, fi.Size(), max)
	}
	buf := make([]byte, 64<<10)
	zero := make([]byte, len(buf))
	for pos := int64(0); ; {
		n, err := io.ReadFull(src, buf)
		if n > 0 && !bytes.Equal(buf[:n], zero[:n]) {
			if _, err := f.WriteAt(buf[:n], off+pos); err != nil {
				t.Fatal(err)
			}
		}
		pos += int64(n)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func openEnv(t testing.TB, path string) *ubootenv.Env {
	t.Helper()
	e, err := ubootenv.Open(ubootenv.Config{Copies: []ubootenv.Location{{Path: path, Size: envSize}}},
		ubootenv.WithLockFile(path+".lock"))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (u *unit) fatImage() string { return fmt.Sprintf("%s@@%d", u.disk, partitions[0].start) }

// rawEnv is uboot.env as it is on the boot partition, nil when missing.
func (u *unit) rawEnv() []byte {
	u.t.Helper()
	out := filepath.Join(u.dir, "uboot.env")
	os.Remove(out)
	if b, err := exec.Command("mcopy", "-n", "-i", u.fatImage(), "::uboot.env", out).CombinedOutput(); err != nil {
		if bytes.Contains(b, []byte("not found")) {
			return nil
		}
		dump := filepath.Join(u.dir, "fat-damaged.img")
		writeFile(u.t, dump, u.partition(0), 0o644)
		fsck, _ := exec.Command("fsck.vfat", "-n", dump).CombinedOutput()
		u.t.Fatalf("uboot.env unreadable: the boot partition is damaged: mcopy: %v\n%s\nfsck.vfat -n:\n%s", err, b, fsck)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		u.t.Fatal(err)
	}
	return raw
}

// env reads uboot.env with lockd's ubootenv (nil when missing or invalid).
func (u *unit) env() map[string]string {
	u.t.Helper()
	if u.rawEnv() == nil {
		return nil
	}
	vars, err := openEnv(u.t, filepath.Join(u.dir, "uboot.env")).Read(context.Background())
	if err != nil {
		u.t.Logf("uboot.env: %v", err)
		return nil
	}
	return vars
}

// lockdVars are the contract's variables: lockd_slot, lockd_try, lockd_try_left.
func lockdVars(env map[string]string) [3]string {
	return [3]string{env["lockd_slot"], env["lockd_try"], env["lockd_try_left"]}
}

// slotBytes is the content of slot B's partition.
func (u *unit) partition(i int) []byte {
	u.t.Helper()
	f, err := os.Open(u.disk)
	if err != nil {
		u.t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, partitions[i].size)
	if _, err := f.ReadAt(b, partitions[i].start); err != nil {
		u.t.Fatal(err)
	}
	return b
}

// cycle is what one power cycle showed.
type cycle struct {
	console string
	lines   []string
	// cut: the rig cut the power; otherwise the guest powered off or
	// reset (QEMU runs with -no-reboot).
	cut     bool
	cutLine string // the console line the rig cut the power on
	slot    string // as init reported it ("" if Linux never got there)
	trial   bool
	version string
	took    time.Duration
}

// marker returns the rest of the first console line starting with m.
func (c *cycle) marker(m string) (string, bool) {
	for _, l := range c.lines {
		if i := strings.Index(l, m); i >= 0 {
			return strings.TrimSpace(l[i+len(m):]), true
		}
	}
	return "", false
}

// status is the last `lockctl --json update status` the guest printed
// (see guestLib's st).
func (c *cycle) status(t testing.TB) updateStatus {
	t.Helper()
	var last string
	for _, l := range c.lines {
		if i := strings.Index(l, "E2E-STATUS "); i >= 0 {
			last = l[i+len("E2E-STATUS "):]
		}
	}
	if last == "" {
		t.Fatalf("power cycle printed no update status:\n%s", c.console)
	}
	var s updateStatus
	if err := json.Unmarshal([]byte(last), &s); err != nil {
		t.Fatalf("update status %q: %v", last, err)
	}
	return s
}

// updateStatus is `lockctl --json update status`.
type updateStatus struct {
	Operation  string                    `json:"operation"`
	Progress   int                       `json:"progress"`
	LastError  string                    `json:"last_error"`
	BootedSlot string                    `json:"booted_slot"`
	Slots      map[string]map[string]any `json:"slots"`
	Pending    *struct {
		Version string `json:"version"`
		Slot    string `json:"slot"`
		Phase   string `json:"phase"`
	} `json:"pending"`
	History []struct {
		Event   string `json:"event"`
		Slot    string `json:"slot"`
		Version string `json:"version"`
		Detail  string `json:"detail"`
	} `json:"history"`
}

// guestLib is prepended to every command script: helpers for the guest.
const guestLib = `
st() { echo "E2E-STATUS $(lockctl --json update status | tr -d '\n')"; }
envp() { echo "E2E-ENV $(lockd bootenv print lockd_slot lockd_try lockd_try_left 2>&1 | tr '\n' ' ')"; }
# wait_op OP...: until update status shows one of the operations (60 s).
# It asks lockctl when e2e-guest watch saw one of them (/run/e2e-op) and
# once a second besides: a lockctl start takes lockd's one CPU for a while.
wait_op() {
	i=0
	while [ $i -lt 300 ]; do
		cur=
		read -r cur </run/e2e-op 2>/dev/null
		ask=$((i % 5 == 4))
		for o; do [ "$cur" = "$o" ] && ask=1; done
		if [ $ask = 1 ]; then
			s=$(lockctl --json update status | tr -d '\n ')
			for o; do
				case $s in *"\"operation\":\"$o\""*) return 0 ;; esac
			done
		fi
		sleep 0.2
		i=$((i + 1))
	done
	echo "E2E-TIMEOUT waiting for $*"
	return 1
}
`

// powerOn is one power cycle: U-Boot starts with uboot.env's variables
// (copied into its flash environment, as a CONFIG_ENV_IS_IN_FAT U-Boot
// would read them from the file), the guest runs script once lockd is
// ready (empty: none), and the cycle ends when the guest powers off or
// resets, or the rig cuts the power: when cut returns true for a console
// line. timeout is a hang (a failure).
func (u *unit) powerOn(script string, cut func(line string) bool, timeout time.Duration) *cycle {
	t := u.t
	t.Helper()
	u.n++
	flash1 := filepath.Join(u.dir, "flash1.img")
	uboottest.WriteFlash1(t, flash1, u.env())
	cmdFile := filepath.Join(u.dir, "e2e-cmd.sh")
	if script != "" {
		writeFile(t, cmdFile, []byte("#!/bin/sh\n"+guestLib+script+"\n"), 0o644)
		run(t, "mcopy", "-o", "-i", u.fatImage(), cmdFile, "::e2e-cmd.sh")
	} else {
		exec.Command("mdel", "-i", u.fatImage(), "::e2e-cmd.sh").Run()
	}

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a57", "-m", "512",
		"-nographic", "-no-reboot", "-nic", "none", "-monitor", "none", "-serial", "stdio",
		"-drive", "if=pflash,format=raw,readonly=on,file="+u.b.flash0,
		"-drive", "if=pflash,format=raw,readonly=on,file="+flash1,
		// cache=unsafe: a killed QEMU keeps every write the guest made
		// to the disk and loses what the guest had only in its page
		// cache, exactly a power cut; and the rig is faster.
		"-drive", "if=virtio,format=raw,cache=unsafe,file="+u.disk,
		"-drive", "if=virtio,format=raw,readonly=on,file="+u.b.a.bundles)
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &cycle{}
	var console strings.Builder
	sc := bufio.NewScanner(pipe)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := strings.TrimRight(sc.Text(), "\r")
		if verbose {
			fmt.Fprintf(&console, "%7.3f ", time.Since(start).Seconds())
		}
		console.WriteString(l + "\n")
		c.lines = append(c.lines, l)
		if cut != nil && !c.cut && cut(l) {
			c.cut, c.cutLine = true, l
			cmd.Process.Kill()
		}
	}
	err = cmd.Wait()
	c.took = time.Since(start)
	c.console = console.String()
	if ctx.Err() != nil {
		t.Fatalf("power cycle %d: no power-off within %s:\n%s", u.n, timeout, c.console)
	}
	if err != nil && !c.cut {
		t.Fatalf("power cycle %d: qemu-system-aarch64: %v\n%s", u.n, err, c.console)
	}
	if boot, ok := c.marker("E2E-BOOT "); ok {
		for _, w := range strings.Fields(boot) {
			k, v, _ := strings.Cut(w, "=")
			switch k {
			case "slot":
				c.slot = v
			case "trial":
				c.trial = v == "1"
			case "version":
				c.version = v
			}
		}
	}
	what := "power off"
	if c.cut {
		what = "power cut"
	}
	t.Logf("power cycle %d: slot %q trial=%v version %q, %s after %.1f s", u.n, c.slot, c.trial, c.version, what, c.took.Seconds())
	if verbose {
		t.Logf("console (seconds since power-on):\n%s", c.console)
	}
	return c
}

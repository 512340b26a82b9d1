package yocto

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lockd.dev/lockd/internal/testtool"
	"lockd.dev/lockd/internal/uboottest"
	"lockd.dev/lockd/updater/ubootenv"
)

const (
	// bootScript is the shipped script, relative to the layer.
	bootScript = "dynamic-layers/raspberrypi/recipes-bsp/rpi-u-boot-scr/files/boot.cmd.in"
	// envSize is uboot.env's size: CONFIG_ENV_SIZE of the Pi's U-Boot,
	// fw_env.config's ENVSIZE, the script's lk_envsize.
	envSize = 0x4000
	// bootMarker starts the line the harness prints instead of booting a
	// kernel.
	bootMarker = "LOCKD-BOOT"
	// fatOffset is where the boot partition starts in the disk image.
	fatOffset = 1 << 20
	fatSize   = 16 << 20
)

// compileScript turns boot.cmd.in into boot.cmd as rpi-u-boot-scr's
// do_compile does (Image, booti on arm64), applies the harness's two
// substitutions when forQEMU, and compiles it with mkimage.
func compileScript(t *testing.T, dir string, forQEMU bool) string {
	t.Helper()
	mkimage := testtool.Need(t, "mkimage", "u-boot-tools")
	src := strings.NewReplacer("@@KERNEL_IMAGETYPE@@", "Image", "@@KERNEL_BOOTCMD@@", "booti").Replace(read(t, bootScript))
	if forQEMU {
		// The only two changes: the storage device, and the kernel boot
		// replaced by a report of what would have been booted.
		src = replaceOnce(t, src, "\nlk_devtype=mmc\n", "\nlk_devtype=virtio\n")
		src = replaceOnce(t, src,
			"\nload ${lk_devtype} ${lk_devnum}:${lk_part} ${kernel_addr_r} /boot/Image && booti ${kernel_addr_r} ${lk_initrd} ${fdt_addr}\n",
			"\necho \""+bootMarker+" slot=${lk_slot} bootargs=${bootargs}\"; poweroff\n")
	}
	cmd := filepath.Join(dir, "boot.cmd")
	scr := filepath.Join(dir, "boot.scr")
	if err := os.WriteFile(cmd, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, mkimage, "-A", "arm64", "-T", "script", "-C", "none", "-n", "lockd boot script", "-d", cmd, scr)
	return scr
}

func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("boot.cmd.in: %q occurs %d times, want exactly once", old, n)
	}
	return strings.Replace(s, old, new, 1)
}

func TestBootScriptCompiles(t *testing.T) {
	dir := t.TempDir()
	scr := compileScript(t, dir, false)
	out := run(t, testtool.Need(t, "dumpimage", "u-boot-tools"), "-l", scr)
	if !bytes.Contains(out, []byte("Script")) {
		t.Errorf("dumpimage -l boot.scr: %s", out)
	}
	for _, bad := range []string{"itest", "setexpr", "saveenv"} {
		if regexp.MustCompile(`(?m)^[^#]*\b` + bad + `\b`).MatchString(read(t, bootScript)) {
			t.Errorf("boot.cmd.in uses %s", bad)
		}
	}
}

// board is a QEMU arm64 virt machine with U-Boot in flash and a virtio
// disk whose first partition is the FAT boot partition.
type board struct {
	dir, flash0, scr string
	defaults         map[string]string
	units            int
}

func newBoard(t *testing.T) *board {
	t.Helper()
	for _, tool := range [][2]string{{"qemu-system-aarch64", "qemu-system-arm"}, {"mkfs.vfat", "dosfstools"},
		{"mcopy", "mtools"}, {"fw_printenv", "libubootenv-tool"}} {
		testtool.Need(t, tool[0], tool[1])
	}
	bin, err := os.ReadFile(testtool.NeedFile(t, uboottest.Bin, "u-boot-qemu"))
	if err != nil {
		t.Fatal(err)
	}
	b := &board{dir: t.TempDir()}
	b.defaults = uboottest.DefaultEnv(t, bin)
	b.flash0 = filepath.Join(b.dir, "flash0.img")
	uboottest.WriteSized(t, b.flash0, bin, uboottest.FlashSize)
	b.scr = compileScript(t, b.dir, true)
	return b
}

// unit is one lock: a disk image, power-cycled again and again.
type unit struct {
	b            *board
	dir, disk    string
	lastConsole  string
	fwenvConfig  string
	extractedEnv string
}

// newUnit makes a disk: an MBR with one FAT partition holding boot.scr
// and, unless env is nil, a uboot.env written by lockd's ubootenv package.
func (b *board) newUnit(t *testing.T, env map[string]string) *unit {
	t.Helper()
	// Under the board's directory: QEMU's -drive cannot take the commas
	// of a subtest's t.TempDir().
	b.units++
	u := &unit{b: b, dir: filepath.Join(b.dir, fmt.Sprintf("unit%d", b.units))}
	if err := os.Mkdir(u.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(u.dir) })
	fat := filepath.Join(u.dir, "fat.img")
	uboottest.WriteSized(t, fat, nil, fatSize)
	run(t, testtool.Need(t, "mkfs.vfat", "dosfstools"), "-n", "BOOT", fat)
	run(t, "mcopy", "-i", fat, b.scr, "::boot.scr")
	if env != nil {
		p := filepath.Join(u.dir, "uboot.env.in")
		uboottest.WriteSized(t, p, nil, envSize)
		e := openEnv(t, p, envSize)
		if err := e.WriteAll(context.Background(), env); err != nil {
			t.Fatal(err)
		}
		run(t, "mcopy", "-i", fat, p, "::uboot.env")
	}
	mbr := make([]byte, fatOffset)
	entry := mbr[446:462]
	entry[0] = 0x80 // bootable
	entry[4] = 0x0c // FAT32 LBA; U-Boot goes by the file system it finds
	binary.LittleEndian.PutUint32(entry[8:], fatOffset/512)
	binary.LittleEndian.PutUint32(entry[12:], fatSize/512)
	mbr[510], mbr[511] = 0x55, 0xaa
	fatData, err := os.ReadFile(fat)
	if err != nil {
		t.Fatal(err)
	}
	u.disk = filepath.Join(u.dir, "disk.img")
	if err := os.WriteFile(u.disk, append(mbr, fatData...), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(fat)
	u.extractedEnv = filepath.Join(u.dir, "uboot.env")
	u.fwenvConfig = filepath.Join(u.dir, "fw_env.config")
	if err := os.WriteFile(u.fwenvConfig, fmt.Appendf(nil, "%s 0x0000 %#x\n", u.extractedEnv, envSize), 0o644); err != nil {
		t.Fatal(err)
	}
	return u
}

func openEnv(t *testing.T, path string, size int64) *ubootenv.Env {
	t.Helper()
	e, err := ubootenv.Open(ubootenv.Config{Copies: []ubootenv.Location{{Path: path, Size: size}}},
		ubootenv.WithLockFile(filepath.Join(filepath.Dir(path), "env.lock")))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// env reads uboot.env back from the boot partition, with fw_printenv and
// with lockd's ubootenv, and fails unless both agree. ok is false when
// there is no uboot.env.
func (u *unit) env(t *testing.T) (vars map[string]string, raw []byte, ok bool) {
	t.Helper()
	os.Remove(u.extractedEnv)
	if out, err := exec.Command("mcopy", "-n", "-i", fmt.Sprintf("%s@@%d", u.disk, fatOffset), "::uboot.env", u.extractedEnv).CombinedOutput(); err != nil {
		if bytes.Contains(out, []byte("not found")) {
			return nil, nil, false
		}
		t.Fatalf("mcopy uboot.env out: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(u.extractedEnv)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != envSize {
		t.Fatalf("uboot.env is %d bytes, want %d", len(raw), envSize)
	}
	vars, err = openEnv(t, u.extractedEnv, envSize).Read(context.Background())
	if err != nil {
		t.Fatalf("ubootenv: %v", err)
	}
	cmd := exec.Command(testtool.Need(t, "fw_printenv", "libubootenv-tool"), "-c", u.fwenvConfig)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("fw_printenv: %v", err)
	}
	fw := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		k, v, _ := strings.Cut(l, "=")
		fw[k] = v
	}
	if diff := cmp.Diff(fw, vars); diff != "" {
		t.Fatalf("fw_printenv and ubootenv disagree on uboot.env (-fw_printenv +ubootenv):\n%s", diff)
	}
	return vars, raw, true
}

// boot is one power cycle: U-Boot starts with uboot.env from the boot
// partition as its environment, as a U-Boot with CONFIG_ENV_IS_IN_FAT
// does. qemu_arm64 keeps its environment in flash (where saveenv cannot
// work on this QEMU), so the harness copies uboot.env's variables into the
// flash environment before each power-on (a missing or corrupt uboot.env
// leaves the flash blank: U-Boot's defaults, as on the Pi). The script
// itself saves with env export + fatwrite to uboot.env, as shipped.
// boot returns the slot and bootargs the script would boot.
func (u *unit) boot(t *testing.T) (slot, bootargs string) {
	t.Helper()
	flash1 := filepath.Join(u.dir, "flash1.img")
	vars, _, ok := u.env(t)
	if !ok {
		vars = nil // missing or corrupt uboot.env: U-Boot's defaults
	}
	uboottest.WriteFlash1(t, flash1, vars)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a57", "-m", "256",
		"-nographic", "-no-reboot", "-nic", "none", "-monitor", "none", "-serial", "stdio",
		"-drive", "if=pflash,format=raw,readonly=on,file="+u.b.flash0,
		"-drive", "if=pflash,format=raw,readonly=on,file="+flash1,
		"-drive", "if=virtio,format=raw,file="+u.disk)
	cmd.Stdin = nil
	var console bytes.Buffer
	cmd.Stdout, cmd.Stderr = &console, &console
	err := cmd.Run()
	u.lastConsole = console.String()
	if ctx.Err() != nil {
		t.Fatalf("U-Boot did not power off within 30 s:\n%s", u.lastConsole)
	}
	if err != nil {
		t.Fatalf("qemu-system-aarch64: %v\n%s", err, u.lastConsole)
	}
	var reports []string
	sc := bufio.NewScanner(strings.NewReader(u.lastConsole))
	for sc.Scan() {
		if l := strings.TrimRight(sc.Text(), "\r"); strings.HasPrefix(l, bootMarker+" ") {
			reports = append(reports, l)
		}
	}
	if n := strings.Count(u.lastConsole, "## Executing script"); len(reports) != 1 || n != 1 {
		t.Fatalf("want the script run once and one boot, got %d runs and %d boots:\n%s", n, len(reports), u.lastConsole)
	}
	m := regexp.MustCompile(`^` + bootMarker + ` slot=(\S*) bootargs=(.*)$`).FindStringSubmatch(reports[0])
	if m == nil {
		t.Fatalf("bad report %q", reports[0])
	}
	return m[1], strings.TrimSpace(m[2])
}

// wantArgs is the command line for slot: root= and lockd.slot=, and
// lockd.trial=1 panic=10 on a trial boot. QEMU's device tree has no bootargs, so
// nothing comes before them.
func wantArgs(slot string, trial bool) string {
	part := map[string]string{"A": "2", "B": "3"}[slot]
	s := "root=/dev/mmcblk0p" + part + " rootwait lockd.slot=" + slot
	if trial {
		s += " lockd.trial=1 panic=10"
	}
	return s
}

// with returns the board's defaults plus set; an empty value deletes.
func (b *board) with(set map[string]string) map[string]string {
	env := maps.Clone(b.defaults)
	for k, v := range set {
		if v == "" {
			delete(env, k)
		} else {
			env[k] = v
		}
	}
	return env
}

// lockdVars are the contract's variables in env ("" when unset).
func lockdVars(env map[string]string) [3]string {
	return [3]string{env["lockd_slot"], env["lockd_try"], env["lockd_try_left"]}
}

// cycle is one expected power cycle: what boots, and the contract's
// variables in uboot.env afterwards.
type cycle struct {
	slot  string
	trial bool
	after [3]string // lockd_slot, lockd_try, lockd_try_left
}

func TestBootScriptInUBoot(t *testing.T) {
	start := time.Now()
	b := newBoard(t)
	for _, tc := range []struct {
		name   string
		env    map[string]string // over the board's defaults; "" deletes
		cycles []cycle
	}{
		{"fresh env boots A", nil, []cycle{{"A", false, [3]string{}}, {"A", false, [3]string{}}}},
		{"trial of B, three boots, then back to A", map[string]string{"lockd_slot": "A", "lockd_try": "B", "lockd_try_left": "3"}, []cycle{
			{"B", true, [3]string{"A", "B", "2"}},
			{"B", true, [3]string{"A", "B", "1"}},
			{"B", true, [3]string{"A", "B", "0"}},
			{"A", false, [3]string{"A", "", "0"}},
			{"A", false, [3]string{"A", "", "0"}},
		}},
		{"committed B is never counted", map[string]string{"lockd_slot": "B"}, []cycle{
			{"B", false, [3]string{"B", "", ""}}, {"B", false, [3]string{"B", "", ""}}, {"B", false, [3]string{"B", "", ""}},
		}},
		{"trial of A from committed B falls back to B", map[string]string{"lockd_slot": "B", "lockd_try": "A", "lockd_try_left": "1"}, []cycle{
			{"A", true, [3]string{"B", "A", "0"}},
			{"B", false, [3]string{"B", "", "0"}},
		}},
		{"lockd_try=C", map[string]string{"lockd_slot": "A", "lockd_try": "C", "lockd_try_left": "3"}, []cycle{{"A", false, [3]string{"A", "", "3"}}}},
		{"lockd_try_left=abc (itest: positive)", map[string]string{"lockd_slot": "B", "lockd_try": "A", "lockd_try_left": "abc"}, []cycle{{"B", false, [3]string{"B", "", "abc"}}}},
		{"lockd_try_left=10 (hex trap)", map[string]string{"lockd_try": "B", "lockd_try_left": "10"}, []cycle{{"A", false, [3]string{"", "", "10"}}}},
		{"lockd_try_left=-1", map[string]string{"lockd_try": "B", "lockd_try_left": "-1"}, []cycle{{"A", false, [3]string{"", "", "-1"}}}},
		{"lockd_try_left=0x3", map[string]string{"lockd_try": "B", "lockd_try_left": "0x3"}, []cycle{{"A", false, [3]string{"", "", "0x3"}}}},
		{"lockd_try_left with test operators", map[string]string{"lockd_try": "B", "lockd_try_left": "3 -o 1 = 1"}, []cycle{{"A", false, [3]string{"", "", "3 -o 1 = 1"}}}},
		{"lockd_try_left unset", map[string]string{"lockd_slot": "B", "lockd_try": "B"}, []cycle{{"B", false, [3]string{"B", "", ""}}}},
		{"lockd_try empty", map[string]string{"lockd_slot": "B", "lockd_try_left": "3"}, []cycle{{"B", false, [3]string{"B", "", "3"}}}},
		{"lockd_try=b (lower case)", map[string]string{"lockd_try": "b", "lockd_try_left": "2"}, []cycle{{"A", false, [3]string{"", "", "2"}}}},
		{"lockd_slot=garbage", map[string]string{"lockd_slot": "garbage"}, []cycle{{"A", false, [3]string{"garbage", "", ""}}}},
		{"lockd_slot=B with spaces", map[string]string{"lockd_slot": "B B"}, []cycle{{"A", false, [3]string{"B B", "", ""}}}},
		{"lockd_slot=A;reset", map[string]string{"lockd_slot": "A;reset", "lockd_try": "B;reset", "lockd_try_left": "1;reset"}, []cycle{{"A", false, [3]string{"A;reset", "", "1;reset"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := b.with(tc.env)
			u := b.newUnit(t, env)
			_, prev, _ := u.env(t)
			for i, c := range tc.cycles {
				slot, args := u.boot(t)
				if slot != c.slot || args != wantArgs(c.slot, c.trial) {
					t.Fatalf("power cycle %d: booted %s with %q, want %s with %q\n%s", i+1, slot, args, c.slot, wantArgs(c.slot, c.trial), u.lastConsole)
				}
				vars, raw, ok := u.env(t)
				if !ok {
					t.Fatalf("power cycle %d: uboot.env is gone", i+1)
				}
				if got := lockdVars(vars); got != c.after {
					t.Fatalf("power cycle %d: after it lockd_slot, lockd_try, lockd_try_left = %q, want %q\n%s", i+1, got, c.after, u.lastConsole)
				}
				// U-Boot's defaults survive every save (bootcmd above all).
				for _, k := range []string{"bootcmd", "boot_targets", "bootdelay"} {
					if vars[k] != b.defaults[k] {
						t.Fatalf("power cycle %d: %s = %q after the save, want %q", i+1, k, vars[k], b.defaults[k])
					}
				}
				// A boot that changes nothing writes nothing.
				if lockdVars(vars) == lockdVars(mapOf(t, prev)) && !bytes.Equal(raw, prev) {
					t.Errorf("power cycle %d: uboot.env rewritten with nothing to change", i+1)
				}
				prev = raw
			}
		})
	}
	t.Run("no uboot.env: defaults, boots A, creates it", func(t *testing.T) {
		u := b.newUnit(t, nil)
		slot, args := u.boot(t)
		if slot != "A" || args != wantArgs("A", false) {
			t.Fatalf("booted %s with %q, want A\n%s", slot, args, u.lastConsole)
		}
		vars, _, ok := u.env(t)
		if !ok {
			t.Fatalf("no uboot.env after the first boot\n%s", u.lastConsole)
		}
		if vars["bootcmd"] == "" {
			t.Errorf("created uboot.env has no bootcmd: %v", vars)
		}
	})
	t.Logf("U-Boot power cycles: %.1f s", time.Since(start).Seconds())
}

// mapOf parses a raw uboot.env.
func mapOf(t *testing.T, raw []byte) map[string]string {
	t.Helper()
	vars, err := ubootenv.ParseEnv(raw[4:])
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, v := range vars {
		m[v.Name] = v.Value
	}
	return m
}

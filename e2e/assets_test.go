package e2e

import (
	"bytes"
	"debug/elf"
	"fmt"
	"maps"

	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"lockd.dev/lockd/internal/testtool"
	"lockd.dev/lockd/internal/uboottest"
)

// The guest's Debian arm64 packages, fetched with apt at test time into
// the cache. linux-image-arm64 is a metapackage: the rig resolves it to
// the kernel it depends on. dbus-daemon's shared libraries are listed by
// hand and checked against the binaries' DT_NEEDED (libFor).
var guestDebs = []string{
	"busybox-static", "libc6", "dbus-daemon", "dbus-system-bus-common",
	"libdbus-1-3", "libexpat1", "libsystemd0", "libapparmor1", "libselinux1",
	"libaudit1", "libcap-ng0", "libcap2", "liblzma5", "libzstd1", "liblz4-1",
	"libgcrypt20", "libgpg-error0", "libpcre2-8-0",
}

// kernelModules are the modules the initramfs loads (with their
// dependencies first): Debian's arm64 kernel builds virtio-pci,
// virtio-blk, ext4 (and the crc32c it asks the crypto API for), vfat and
// the code pages vfat mounts with as modules.
var kernelModules = []string{"virtio_pci", "virtio_blk", "crc32c_generic", "ext4", "vfat",
	"nls_cp437", "nls_ascii", "nls_utf8", "nls_iso8859-1"}

// Guest constants shared by the slot images and the rig.
const (
	compatible = "lockd,e2e-qemu-virt"
	envSize    = 0x4000
	// commitAfter is the guest's [update] commit_after: short, so a trial
	// commits (or, ×3, gives up) within seconds.
	commitAfter = 2
	tryBoots    = 3
)

// repo is the repository root, relative to this package.
const repo = ".."

// cacheDir is where the rig keeps its assets between runs.
func cacheDir(t testing.TB) string {
	t.Helper()
	d, err := filepath.Abs(filepath.Join(repo, ".cache", "e2e"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// cached runs build into a fresh directory named key under the cache
// unless a complete one exists, and returns the directory. build's
// directory is renamed into place only when it returns: a run cut short
// never leaves a half-built asset behind.
func cached(t testing.TB, name, key string, build func(dir string)) string {
	t.Helper()
	dir := filepath.Join(cacheDir(t), name+"-"+key)
	if exists(filepath.Join(dir, ".complete")) {
		return dir
	}
	// Older versions of this asset: their inputs changed.
	old, _ := filepath.Glob(filepath.Join(cacheDir(t), name+"-*"))
	for _, o := range old {
		os.RemoveAll(o)
	}
	tmp := dir + ".tmp"
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	build(tmp)
	writeFile(t, filepath.Join(tmp, ".complete"), nil, 0o644)
	if err := os.Rename(tmp, dir); err != nil {
		t.Fatal(err)
	}
	t.Logf("built %s in %.1f s", filepath.Base(dir), time.Since(start).Seconds())
	return dir
}

// crossBuild builds lockd and lockctl for arm64 with cgo, as the Yocto
// recipe and `make cross` do (stripped: they go into every slot image),
// and the guest's logind stand-in.
func crossBuild(t testing.TB) (lockd, lockctl, helper string) {
	t.Helper()
	cc := testtool.Need(t, "aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu")
	dir := filepath.Join(cacheDir(t), "bin")
	cmd := exec.Command("go", "build", "-trimpath", "-buildmode=pie", "-ldflags=-s -w", "-o", dir+"/", "./cmd/lockd", "./cmd/lockctl", "./e2e/guest/e2e-guest")
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=1", "CC="+cc)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cross build: %v\n%s", err, out)
	}
	return filepath.Join(dir, "lockd"), filepath.Join(dir, "lockctl"), filepath.Join(dir, "e2e-guest")
}

// hostLockd builds lockd for this machine: its `bundle` commands make the
// keys and bundles.
func hostLockd(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(cacheDir(t), "hostbin")
	cmd := exec.Command("go", "build", "-o", dir+"/", "./cmd/lockd")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("host build: %v\n%s", err, out)
	}
	return filepath.Join(dir, "lockd")
}

// busyboxApplets lists the applets of the arm64 busybox (run under
// qemu-user: it is static).
func busyboxApplets(t testing.TB, busybox string) []string {
	t.Helper()
	out := run(t, testtool.Need(t, "qemu-aarch64", "qemu-user"), busybox, "--list")
	return strings.Fields(string(out))
}

// libFor copies the shared libraries bin needs, transitively, from the
// debroot into the tree's /lib/aarch64-linux-gnu, and the dynamic loader
// to /lib. It fails on a library no fetched package has.
func libFor(t testing.TB, root, tree, bin string) {
	t.Helper()
	dirs := []string{"lib/aarch64-linux-gnu", "usr/lib/aarch64-linux-gnu"}
	todo := []string{bin}
	for len(todo) > 0 {
		f, err := elf.Open(todo[0])
		if err != nil {
			t.Fatal(err)
		}
		libs, err := f.ImportedLibraries()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		todo = todo[1:]
		for _, l := range libs {
			dst := filepath.Join(tree, "lib/aarch64-linux-gnu", l)
			if exists(dst) {
				continue
			}
			var src string
			for _, d := range dirs {
				if p := filepath.Join(root, d, l); exists(p) {
					src = p
				}
			}
			if src == "" {
				t.Fatalf("%s needs %s, which no fetched package has: add its package to guestDebs", filepath.Base(bin), l)
			}
			real, err := filepath.EvalSymlinks(src)
			if err != nil {
				t.Fatal(err)
			}
			copyFile(t, real, dst, 0o755)
			todo = append(todo, real)
		}
	}
	copyFile(t, filepath.Join(root, "lib/aarch64-linux-gnu/ld-linux-aarch64.so.1"), filepath.Join(tree, "lib/ld-linux-aarch64.so.1"), 0o755)
}

// guestConfig is the shipped lockd.toml with the [update] section set for
// the rig: the rig's model and key, the virtio slots, a short commit_after.
func guestConfig(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, "systemd", "lockd.toml"))
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]string{
		"compatible": fmt.Sprintf("%q", compatible), "bootloader": `"uboot"`,
		"fw_env_config": `"/etc/fw_env.config"`, "slot_a": `"/dev/vda2"`, "slot_b": `"/dev/vda3"`,
		"try_boots": fmt.Sprint(tryBoots), "commit_after": fmt.Sprint(commitAfter), "reboot": `"approve"`,
		"version_file": `"/etc/os-release"`, "keys": `"/etc/lockd/keys"`,
	}
	lines := strings.Split(string(b), "\n")
	section := ""
	for i, l := range lines {
		if strings.HasPrefix(l, "[") {
			section = l
			continue
		}
		k, _, ok := strings.Cut(l, " = ")
		if v, want := set[k]; ok && want && section == "[update]" {
			lines[i] = k + " = " + v
			delete(set, k)
		}
	}
	if len(set) != 0 {
		t.Fatalf("systemd/lockd.toml [update] lacks %v", set)
	}
	return []byte(strings.Join(lines, "\n"))
}

// wiegandConfig is guestConfig with a Wiegand keypad on the shipped d0
// and d1 pins: the one change from the shipped file.
func wiegandConfig(t testing.TB) []byte {
	t.Helper()
	b := string(guestConfig(t))
	i := strings.Index(b, "\n[keypad]\n")
	j := strings.Index(b[max(i, 0):], "\ntype = \"matrix\"")
	if i < 0 || j < 0 || strings.Contains(b[i+1:i+j], "\n[") {
		t.Fatal(`systemd/lockd.toml: no type = "matrix" in [keypad] to change`)
	}
	return []byte(b[:i+j] + "\ntype = \"wiegand\"" + b[i+j+len("\ntype = \"matrix\""):])
}

// slotVariant is one root file system the rig makes.
type slotVariant struct {
	name    string
	version string
	// noPolicy leaves out lockd's D-Bus policy: lockd cannot own its
	// name, so it never gets healthy.
	noPolicy bool
	// badKernel overwrites the kernel's header: U-Boot's booti refuses it.
	badKernel bool
}

// assets is everything a unit is made of.
type assets struct {
	ubootBin string
	lockd    string // host binary, for bundle create
	key      string // signing key base (key.key, key.pub)
	slots    map[string]string
	bundles  string // ext4 image with the bundles, the guest's /dev/vdb
	// bundleNames maps a variant to its bundle's file name on that disk.
	bundleNames map[string]string
	slotSize    int64
	gpioSim     string // gpio-sim.ko for the guest's kernel
}

var variants = []slotVariant{
	{name: "v1", version: "1.0.0"},
	{name: "v2", version: "2.0.0"},
	{name: "v2-unhealthy", version: "2.0.0", noPolicy: true},
	{name: "v2-badkernel", version: "2.0.0", badKernel: true},
}

// buildAssets makes (or finds in the cache) every asset of the rig.
func buildAssets(t testing.TB) *assets {
	t.Helper()
	for _, tool := range [][2]string{{"mkfs.ext4", "e2fsprogs"}, {"mkimage", "u-boot-tools"},
		{"qemu-system-aarch64", "qemu-system-arm"}, {"mkfs.vfat", "dosfstools"}, {"mcopy", "mtools"},
		{"qemu-aarch64", "qemu-user"}, {"dpkg-deb", "dpkg"}, {"apt-get", "apt"}} {
		testtool.Need(t, tool[0], tool[1])
	}
	a := &assets{ubootBin: testtool.NeedFile(t, uboottest.Bin, "u-boot-qemu"), slots: map[string]string{},
		bundleNames: map[string]string{}, slotSize: 160 << 20}
	debs, headers := splitHeaders(fetchDebs(t))
	root := debRoot(t, debs)
	a.gpioSim = buildGPIOSim(t, kernelRelease(t, root), headers)
	lockd, lockctl, helper := crossBuild(t)
	a.lockd = hostLockd(t)
	keyDir := filepath.Join(cacheDir(t), "key")
	a.key = filepath.Join(keyDir, "e2e")
	if !exists(a.key + ".pub") {
		os.MkdirAll(keyDir, 0o700)
		run(t, a.lockd, "bundle", "keygen", "-o", a.key)
	}
	initramfs := buildInitramfs(t, root)
	base := newHasher().str(root, initramfs).file(t, a.gpioSim).file(t, lockd).file(t, lockctl).file(t, helper).file(t, a.key+".pub").file(t, "guest/login1.conf").
		file(t, "guest/init").str(string(guestConfig(t))).file(t, filepath.Join(repo, "systemd/io.lockd.Lock1.conf"))
	for _, v := range variants {
		key := newHasher().str(base.sum(), fmt.Sprintf("%+v", v)).sum()
		dir := cached(t, "slot-"+v.name, key, func(dir string) {
			buildSlot(t, a, root, initramfs, []string{lockd, lockctl, helper}, v, dir)
		})
		a.slots[v.name] = filepath.Join(dir, "rootfs.ext4")
	}
	a.buildSystemdSlots(t, base.sum(), root, initramfs, debs)
	a.buildBundles(t)
	return a
}

// buildSystemdSlots makes (or finds) the systemd slots (systemd_test.go),
// keyed by the busybox slots' inputs and their own.
func (a *assets) buildSystemdSlots(t testing.TB, base, root, initramfs string, debs []string) {
	t.Helper()
	debs = append(slices.Clone(debs), fetchSystemdDebs(t)...)
	bin := installBins(t)
	// The builder's own file is an input too: it lays the image out.
	h := newHasher().str(base).file(t, filepath.Join(repo, "Makefile")).file(t, "systemd_test.go")
	for _, d := range debs {
		h.str(filepath.Base(d))
	}
	for _, n := range slices.Sorted(maps.Keys(systemdUnits)) {
		h.str(n, systemdUnits[n])
	}
	for _, dir := range []string{filepath.Join(repo, "systemd"), bin} {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, f := range files {
			if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
				h.file(t, f)
			}
		}
	}
	for _, v := range systemdVariants {
		dir := cached(t, "slot-"+v.name, newHasher().str(h.sum(), fmt.Sprintf("%+v", v)).sum(), func(dir string) {
			buildSystemdSlot(t, a, root, initramfs, debs, bin, v, dir)
		})
		a.slots[v.name] = filepath.Join(dir, "rootfs.ext4")
	}
}

// buildInitramfs makes the initramfs: busybox, the modules, guest/initramfs-init.
func buildInitramfs(t testing.TB, root string) string {
	t.Helper()
	_, modDir := kernelFiles(t, root)
	key := newHasher().str(root).file(t, "guest/initramfs-init").str(kernelModules...).sum()
	return filepath.Join(cached(t, "initramfs", key, func(dir string) {
		tree := filepath.Join(dir, "tree")
		copyFile(t, filepath.Join(root, "bin/busybox"), filepath.Join(tree, "bin/busybox"), 0o755)
		copyFile(t, "guest/initramfs-init", filepath.Join(tree, "init"), 0o755)
		order := moduleOrder(t, modDir, kernelModules)
		for _, m := range order {
			copyFile(t, filepath.Join(modDir, m), filepath.Join(tree, "lib/modules", m), 0o644)
		}
		writeFile(t, filepath.Join(tree, "modules.load"), []byte(strings.Join(order, "\n")+"\n"), 0o644)
		for _, d := range []string{"proc", "sys", "newroot"} {
			os.MkdirAll(filepath.Join(tree, d), 0o755)
		}
		writeInitramfs(t, tree, filepath.Join(dir, "initrd.img"))
		os.RemoveAll(tree)
	}), "initrd.img")
}

// buildSlot makes one root file system as an ext4 image, rootfs.ext4.
func buildSlot(t testing.TB, a *assets, root, initramfs string, bins []string, v slotVariant, dir string) {
	tree := filepath.Join(dir, "tree")
	bb := filepath.Join(tree, "bin/busybox")
	copyFile(t, filepath.Join(root, "bin/busybox"), bb, 0o755)
	for _, app := range busyboxApplets(t, bb) {
		if app == "busybox" {
			continue
		}
		os.Symlink("busybox", filepath.Join(tree, "bin", app))
	}
	copyFile(t, "guest/init", filepath.Join(tree, "sbin/init"), 0o755)
	for _, b := range bins {
		copyFile(t, b, filepath.Join(tree, "usr/bin", filepath.Base(b)), 0o755)
	}
	copyFile(t, filepath.Join(root, "usr/bin/dbus-daemon"), filepath.Join(tree, "usr/bin/dbus-daemon"), 0o755)
	libFor(t, root, tree, filepath.Join(root, "usr/bin/dbus-daemon"))
	for _, b := range bins {
		libFor(t, root, tree, b)
	}
	copyFile(t, filepath.Join(root, "usr/share/dbus-1/system.conf"), filepath.Join(tree, "usr/share/dbus-1/system.conf"), 0o644)
	if !v.noPolicy {
		copyFile(t, filepath.Join(repo, "systemd/io.lockd.Lock1.conf"), filepath.Join(tree, "usr/share/dbus-1/system.d/io.lockd.Lock1.conf"), 0o644)
	}
	copyFile(t, "guest/login1.conf", filepath.Join(tree, "usr/share/dbus-1/system.d/login1.conf"), 0o644)
	writeFile(t, filepath.Join(tree, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\nmessagebus:x:100:101::/nonexistent:/bin/false\nlockd:x:102:102::/var/lib/lockd:/bin/false\n"), 0o644)
	writeFile(t, filepath.Join(tree, "etc/group"), []byte("root:x:0:\nmessagebus:x:101:\nlockd:x:102:\nlockd-admin:x:103:\n"), 0o644)
	slotCommon(t, a, root, initramfs, v, tree)
	img := filepath.Join(dir, "rootfs.ext4")
	mkext4(t, tree, img, "rootfs-"+v.name)
	os.RemoveAll(tree)
}

// slotCommon writes what every slot has: the kernel, the initramfs, the
// GPIO board's modules, lockd's config and the rig's key, the machine's
// identity and the mount points.
func slotCommon(t testing.TB, a *assets, root, initramfs string, v slotVariant, tree string) {
	t.Helper()
	kernel, _ := kernelFiles(t, root)
	copyFile(t, kernel, filepath.Join(tree, "boot/Image"), 0o644)
	if v.badKernel {
		f, err := os.OpenFile(filepath.Join(tree, "boot/Image"), os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteAt(bytes.Repeat([]byte{0xde}, 4096), 0)
		f.Close()
	}
	copyFile(t, initramfs, filepath.Join(tree, "boot/initrd.img"), 0o644)
	etc := map[string]string{
		"os-release":    fmt.Sprintf("NAME=\"lockd e2e\"\nID=lockd-e2e\nVERSION_ID=%s\n", v.version),
		"machine-id":    "0123456789abcdef0123456789abcdef\n",
		"fw_env.config": fmt.Sprintf("/boot/firmware/uboot.env 0x0000 %#x\n", envSize),
	}
	for name, content := range etc {
		writeFile(t, filepath.Join(tree, "etc", name), []byte(content), 0o644)
	}
	writeFile(t, filepath.Join(tree, "etc/lockd/lockd.toml"), guestConfig(t), 0o644)
	writeFile(t, filepath.Join(tree, "etc/lockd/lockd-wiegand.toml"), wiegandConfig(t), 0o644)
	// The GPIO board's modules (guest/init loads them): configfs, which
	// Debian builds as a module, and the rig's gpio-sim.
	_, modDir := kernelFiles(t, root)
	mods := filepath.Join(tree, "lib/modules", filepath.Base(modDir))
	copyFile(t, filepath.Join(modDir, "kernel/fs/configfs/configfs.ko"), filepath.Join(mods, "kernel/fs/configfs/configfs.ko"), 0o644)
	copyFile(t, a.gpioSim, filepath.Join(mods, "extra/gpio-sim.ko"), 0o644)
	copyFile(t, a.key+".pub", filepath.Join(tree, "etc/lockd/keys/e2e.pub"), 0o644)
	for _, d := range []string{"proc", "sys", "dev", "run", "tmp", "var/lib/lockd", "boot/firmware", "mnt/bundles", "root"} {
		if err := os.MkdirAll(filepath.Join(tree, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// mkext4 makes an ext4 image of dir just large enough for it.
func mkext4(t testing.TB, dir, img, label string) {
	t.Helper()
	mkext4Spare(t, dir, img, label, 0)
}

// mkext4Spare is mkext4 with spare MiB more: a few files of 100 MiB and
// more need more than mkext4's margin for the journal and extent blocks.
func mkext4Spare(t testing.TB, dir, img, label string, spare int64) {
	t.Helper()
	var size int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil {
			size += (fi.Size() + 4095) / 4096 * 4096
		}
		return nil
	})
	size = (size*11/10+(6<<20)+(1<<20-1))/(1<<20) + spare
	run(t, testtool.Need(t, "mkfs.ext4", "e2fsprogs"), "-q", "-F", "-L", label, "-b", "4096", "-E", "root_owner=0:0",
		"-d", dir, img, fmt.Sprintf("%dM", size))
}

// buildBundles signs a bundle of each slot variant with the rig's key,
// and one of v2 for another model, all on one ext4 disk for the guest.
func (a *assets) buildBundles(t testing.TB) {
	t.Helper()
	h := newHasher().file(t, a.lockd).file(t, a.key+".key")
	all := append(slices.Clone(variants), systemdVariants...)
	for _, v := range all {
		h.str(v.name, a.slots[v.name])
	}
	type spec struct{ name, variant, compatible string }
	specs := []spec{{"v2", "v2", compatible}, {"v2-unhealthy", "v2-unhealthy", compatible},
		{"v2-badkernel", "v2-badkernel", compatible}, {"v2-othermodel", "v2", "lockd,some-other-model"},
		{"v2-systemd", "v2-systemd", compatible}, {"v2-unhealthy-systemd", "v2-unhealthy-systemd", compatible}}
	dir := cached(t, "bundles", h.sum(), func(dir string) {
		tree := filepath.Join(dir, "tree")
		os.MkdirAll(tree, 0o755)
		for _, s := range specs {
			v := all[slices.IndexFunc(all, func(v slotVariant) bool { return v.name == s.variant })]
			run(t, a.lockd, "bundle", "create", "--key", a.key+".key", "--compatible", s.compatible,
				"--version", v.version, a.slots[s.variant], "-o", filepath.Join(tree, s.name+".bundle"))
		}
		mkext4Spare(t, tree, filepath.Join(dir, "bundles.ext4"), "bundles", 32)
		os.RemoveAll(tree)
	})
	a.bundles = filepath.Join(dir, "bundles.ext4")
	for _, s := range specs {
		a.bundleNames[s.name] = "/mnt/bundles/" + s.name + ".bundle"
	}
}

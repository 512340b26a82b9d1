package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"lockd.dev/lockd/internal/testtool"
)

// The systemd slot: Debian's arm64 systemd as PID 1, with udev, dbus,
// logind and polkitd, and lockd installed by `make install` unchanged:
// lockd.service with all its hardening, the trial generator, the
// watchdog drop-in, sysusers (applied to the image with the host's
// systemd-sysusers --root, as an image build does), tmpfiles, the udev
// rules, the D-Bus policy and the polkit rule. What the rig adds is what
// a lock's image adds around lockd: its mounts, the factory step, the
// QEMU disk names (virtio, not mmc), and its own services: the GPIO
// board and the script runner.

// systemdVariants are the systemd slots: v1 for slot A, a good v2, and a
// v2 whose lockd never gets healthy (no D-Bus policy: it cannot own its
// name).
var systemdVariants = []slotVariant{
	{name: "v1-systemd", version: "1.0.0"},
	{name: "v2-systemd", version: "2.0.0"},
	{name: "v2-unhealthy-systemd", version: "2.0.0", noPolicy: true},
}

// systemdDebs are the packages of the systemd slot besides guestDebs.
var systemdDebs = []string{"systemd", "libsystemd-shared", "udev", "libudev1", "dbus", "polkitd",
	"libpolkit-gobject-1-0", "libglib2.0-0", "libduktape207", "libffi8", "mount", "libmount1",
	"libblkid1", "libuuid1", "libacl1", "libcryptsetup12", "libdevmapper1.02.1", "libargon2-1",
	"libjson-c5", "libssl3", "libfdisk1", "libip4tc2", "libkmod2", "libseccomp2", "libpam0g",
	"libcrypt1", "libsmartcols1", "zlib1g", "libgcc-s1", "libaudit-common"}

// fetchSystemdDebs downloads systemdDebs once, beside the guest's
// packages, with the same package lists.
func fetchSystemdDebs(t testing.TB) []string {
	t.Helper()
	dir := filepath.Join(cacheDir(t), "debs-systemd")
	manifest := filepath.Join(dir, "manifest")
	want := strings.Join(systemdDebs, " ")
	if b, err := os.ReadFile(manifest); err == nil {
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) > 1 && lines[0] == want {
			return prefix(dir, lines[1:])
		}
	}
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testtool.Need(t, "apt-get", "apt"), append(aptArgs(t), append([]string{"download"}, systemdDebs...)...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("apt-get download %v: %v\n%s", systemdDebs, err, out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.deb"))
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	writeFile(t, manifest, []byte(want+"\n"+strings.Join(names, "\n")+"\n"), 0o644)
	return files
}

// systemdUnits are the rig's own units and files in the systemd slot.
var systemdUnits = map[string]string{
	"etc/systemd/system/e2e-board.service": `[Unit]
Description=e2e: the simulated GPIO chip and the world around the lock
DefaultDependencies=no
Before=lockd.service
After=local-fs.target
[Service]
ExecStartPre=/bin/sh -c 'insmod /lib/modules/$(uname -r)/kernel/fs/configfs/configfs.ko; insmod /lib/modules/$(uname -r)/extra/gpio-sim.ko'
ExecStart=/usr/bin/e2e-guest board serve --config /etc/lockd/lockd.toml
ExecStartPost=/bin/sh -c 'i=0; while [ ! -S /run/e2e-board.sock ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done'
StandardOutput=tty
TTYPath=/dev/console
`,
	"etc/systemd/system/e2e-factory.service": `[Unit]
Description=e2e: the factory step, lockd factory-init, once
Before=lockd.service
After=local-fs.target systemd-tmpfiles-setup.service
ConditionPathExists=!/var/lib/lockd/device.key
[Service]
Type=oneshot
ExecStart=/usr/bin/lockd factory-init --state-dir /var/lib/lockd
`,
	"etc/systemd/system/e2e-watch.service": `[Unit]
Description=e2e: lockd's signals for the rig
After=dbus.service
[Service]
ExecStart=/usr/bin/e2e-guest watch
StandardOutput=tty
TTYPath=/dev/console
`,
	"etc/systemd/system/e2e-run.service": `[Unit]
Description=e2e: the rig's script of this power cycle
After=lockd.service e2e-watch.service
[Service]
ExecStart=/usr/lib/e2e/run
StandardOutput=tty
StandardError=tty
TTYPath=/dev/console
`,
	// The virtio slots of the rig, as lockd.service allows the Pi's
	// /dev/mmcblk0p2 and p3 and 61-lockd-slots.rules gives them to lockd.
	"etc/systemd/system/lockd.service.d/60-e2e-slots.conf": "[Service]\nDeviceAllow=/dev/vda2 rw\nDeviceAllow=/dev/vda3 rw\n",
	"etc/udev/rules.d/61-e2e-slots.rules": "SUBSYSTEM==\"block\", KERNEL==\"vda2\", OWNER=\"lockd\", MODE=\"0660\"\n" +
		"SUBSYSTEM==\"block\", KERNEL==\"vda3\", OWNER=\"lockd\", MODE=\"0660\"\n",
	"etc/systemd/journald.conf.d/e2e.conf": "[Journal]\nStorage=volatile\nForwardToConsole=yes\nMaxLevelConsole=info\n",
	"usr/lib/e2e/run": `#!/bin/sh
# Reports the boot and runs the rig's script once lockd is ready, as the
# busybox slots' init does (guest/init).
trial=0 slot=
for w in $(cat /proc/cmdline); do
	case $w in
	lockd.trial=1) trial=1 ;;
	lockd.slot=*) slot=${w#lockd.slot=} ;;
	esac
done
. /etc/os-release
echo "E2E-BOOT slot=$slot trial=$trial version=$VERSION_ID init=systemd"
# What the trial generator made of this boot: reboot on a trial, none
# otherwise.
echo "E2E-FAILURE-ACTION $(systemctl show -P FailureAction lockd.service)"
i=0
until [ -e /run/e2e-lockd-up ] && lockctl status >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 600 ] || { echo "E2E-NOT-READY"; systemctl status lockd --no-pager; exit 1; }
	sleep 0.2
done
echo "E2E-READY"
if [ -f /boot/firmware/e2e-cmd.sh ]; then
	sh /boot/firmware/e2e-cmd.sh
	echo "E2E-CMD-DONE rc=$?"
fi
`,
}

// buildSystemdSlot makes the systemd root file system as rootfs.ext4:
// the packages (guestDebs' and systemdDebs', not the kernel's), the
// modules, lockd by `make install DESTDIR= BIN=bin`, the users by the
// host's systemd-sysusers --root, and the rig's files.
func buildSystemdSlot(t testing.TB, a *assets, root, initramfs string, debs []string, bin string, v slotVariant, dir string) {
	t.Helper()
	tree := filepath.Join(dir, "tree")
	for _, d := range debs {
		if !strings.HasPrefix(filepath.Base(d), "linux-") {
			run(t, testtool.Need(t, "dpkg-deb", "dpkg"), "-x", d, tree)
		}
	}
	mergeUsr(t, tree)
	// What an image leaves out: gconv, documentation, udev's hardware
	// database.
	for _, p := range []string{"usr/lib/aarch64-linux-gnu/gconv", "lib/udev/hwdb.d", "usr/share/doc",
		"usr/share/man", "usr/share/locale", "usr/share/zsh", "usr/share/lintian", "usr/share/bash-completion"} {
		os.RemoveAll(filepath.Join(tree, p))
	}
	for _, app := range busyboxApplets(t, filepath.Join(tree, "bin/busybox")) {
		taken := false
		for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin"} {
			taken = taken || exists(filepath.Join(tree, d, app))
		}
		if !taken {
			os.Symlink("busybox", filepath.Join(tree, "bin", app))
		}
	}
	for link, target := range map[string]string{"sbin/init": "/lib/systemd/systemd", "var/run": "/run", "var/lock": "/run/lock",
		"etc/systemd/system/default.target": "/lib/systemd/system/multi-user.target"} {
		os.MkdirAll(filepath.Dir(filepath.Join(tree, link)), 0o755)
		if err := os.Symlink(target, filepath.Join(tree, link)); err != nil {
			t.Fatal(err)
		}
	}
	slotCommon(t, a, root, initramfs, v, tree)
	// make install keeps an existing lockd.toml and fw_env.config: the
	// rig's, written by slotCommon.
	run(t, "make", "-s", "-C", repo, "install", "DESTDIR="+tree, "BIN="+bin, "PREFIX=/usr")
	copyFile(t, filepath.Join(bin, "e2e-guest"), filepath.Join(tree, "usr/bin/e2e-guest"), 0o755)
	if v.noPolicy {
		if err := os.Remove(filepath.Join(tree, "usr/share/dbus-1/system.d/io.lockd.Lock1.conf")); err != nil {
			t.Fatal(err)
		}
	}
	run(t, testtool.Need(t, "systemd-sysusers", "systemd"), "--root="+tree)
	uid := ""
	passwd, _ := os.ReadFile(filepath.Join(tree, "etc/passwd"))
	for _, l := range strings.Split(string(passwd), "\n") {
		if f := strings.Split(l, ":"); len(f) > 2 && f[0] == "lockd" {
			uid = f[2]
		}
	}
	if uid == "" {
		t.Fatal("systemd slot: systemd-sysusers made no user lockd")
	}
	// The lock's mounts: the data partition, the boot partition as user
	// lockd may write it (README, Deploy), the bundles' disk, and the
	// writable places a read-only root needs.
	writeFile(t, filepath.Join(tree, "etc/fstab"), []byte(fmt.Sprintf(`/dev/vda4 /var/lib/lockd ext4 defaults 0 0
/dev/vda1 /boot/firmware vfat uid=%s,gid=0,umask=0077 0 0
/dev/vdb /mnt/bundles ext4 ro,nofail 0 0
tmpfs /tmp tmpfs mode=1777 0 0
tmpfs /var/tmp tmpfs mode=1777 0 0
tmpfs /var/lib/systemd tmpfs mode=0755 0 0
`, uid)), 0o644)
	for name, content := range systemdUnits {
		mode := os.FileMode(0o644)
		if strings.HasPrefix(name, "usr/lib/e2e/") {
			mode = 0o755
		}
		writeFile(t, filepath.Join(tree, name), []byte(content), mode)
	}
	wants := filepath.Join(tree, "etc/systemd/system/multi-user.target.wants")
	os.MkdirAll(wants, 0o755)
	for _, u := range []string{"e2e-board", "e2e-factory", "e2e-watch", "e2e-run"} {
		os.Symlink("/etc/systemd/system/"+u+".service", filepath.Join(wants, u+".service"))
	}
	os.Symlink("/usr/lib/systemd/system/lockd.service", filepath.Join(wants, "lockd.service"))
	for _, d := range []string{"var/tmp", "var/lib/systemd"} {
		os.MkdirAll(filepath.Join(tree, d), 0o755)
	}
	mkext4(t, tree, filepath.Join(dir, "rootfs.ext4"), "rootfs-"+v.name)
	os.RemoveAll(tree)
}

// installBins cross-builds every command `make install` installs, and
// the guest's helper, into one directory for BIN=.
func installBins(t testing.TB) string {
	t.Helper()
	cc := testtool.Need(t, "aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu")
	dir := filepath.Join(cacheDir(t), "install-bin")
	pkgs := []string{"./e2e/guest/e2e-guest"}
	cmds, _ := filepath.Glob(filepath.Join(repo, "cmd", "*"))
	for _, c := range cmds {
		if filepath.Base(c) != "lockbench" {
			pkgs = append(pkgs, "./cmd/"+filepath.Base(c))
		}
	}
	cmd := exec.Command("go", append([]string{"build", "-trimpath", "-buildmode=pie", "-ldflags=-s -w", "-o", dir + "/"}, pkgs...)...)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=1", "CC="+cc)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cross build for make install: %v\n%s", err, out)
	}
	return dir
}

// 9. The shipped units under real systemd (slot A is v1-systemd): lockd
// runs as lockd.service with all its hardening on the GPIO board (udev
// gave group gpio the chip), installs the update and, approved, reboots
// into the trial through logind, which asks polkitd, which grants it by
// the shipped rule: no capability, no test hook. U-Boot then boots B
// (v2, systemd too) on trial: the trial generator's drop-in is in force
// (FailureAction=reboot), lockd gets healthy and commits.
func systemdTrial(t *testing.T, u *unit) {
	u = u.b.newUnitWith(t, u.b.a.slots["v1-systemd"])
	c := u.powerOn(installApprove(u.b.a.bundleNames["v2-systemd"]), nil, 2*cycleTimeout)
	wantBoot(t, c, "A", false, "1.0.0")
	if !strings.Contains(c.console, "init=systemd") {
		t.Fatalf("slot A did not boot systemd\n%s", c.console)
	}
	wantMarker(t, c, "E2E-FAILURE-ACTION ", "none")
	wantMarker(t, c, "E2E-INSTALL ", "rc=0")
	for _, m := range []string{
		"Started lockd.service", // the shipped unit, READY=1 from lockd
		"E2E-BOARD-UP",          // on the GPIO board
		"Acquired the name org.freedesktop.PolicyKit1", // polkitd, asked by logind
		"The system will reboot now!",                  // logind, for lockd
	} {
		if !strings.Contains(c.console, m) {
			t.Fatalf("console lacks %q\n%s", m, c.console)
		}
	}
	if _, ok := c.marker("E2E-NO-REBOOT"); ok {
		t.Fatalf("lockd did not reboot into the trial\n%s", c.console)
	}
	u.wantVars("after arming under systemd", [3]string{"A", "B", strconv.Itoa(tryBoots)})
	c = u.powerOn(waitIdle, nil, 2*cycleTimeout)
	wantBoot(t, c, "B", true, "2.0.0")
	if !strings.Contains(c.console, "init=systemd") {
		t.Fatalf("slot B did not boot systemd\n%s", c.console)
	}
	wantMarker(t, c, "E2E-FAILURE-ACTION ", "reboot")
	u.wantVars("after the trial", [3]string{"B", "", ""})
	s := c.status(t)
	want(t, "slot B", slotInfo(s, "B"), "committed=true state=good version=2.0.0")
	if strings.Contains(c.console, "lockd.service: Failed with result") {
		t.Fatalf("lockd.service failed on the good trial\n%s", c.console)
	}
}

// 10. An update whose lockd never gets healthy, under systemd on both
// slots: on each trial boot lockd.service fails (lockd exits non-zero
// when not healthy in time), the trial generator's drop-in reboots
// (FailureAction=reboot), and the boot script counts the boot; after
// try_boots of them A boots and lockd reports the rollback.
func systemdRolledBack(t *testing.T, u *unit) {
	u = u.b.newUnitWith(t, u.b.a.slots["v1-systemd"])
	c := u.powerOn(installApprove(u.b.a.bundleNames["v2-unhealthy-systemd"]), nil, 2*cycleTimeout)
	wantBoot(t, c, "A", false, "1.0.0")
	wantMarker(t, c, "E2E-INSTALL ", "rc=0")
	if !strings.Contains(c.console, "The system will reboot now!") {
		t.Fatalf("logind did not reboot the unit for lockd\n%s", c.console)
	}
	u.wantVars("after arming under systemd", [3]string{"A", "B", strconv.Itoa(tryBoots)})
	for i := 1; i <= tryBoots; i++ {
		c := u.powerOn("", nil, 2*cycleTimeout)
		wantBoot(t, c, "B", true, "2.0.0")
		for _, m := range []string{"lockd.service: Failed with result", "reboot: Restarting system"} {
			if !strings.Contains(c.console, m) {
				t.Fatalf("trial boot %d: console lacks %q\n%s", i, m, c.console)
			}
		}
		u.wantVars(fmt.Sprintf("after trial boot %d", i), [3]string{"A", "B", strconv.Itoa(tryBoots - i)})
	}
	c = u.powerOn(waitIdle, nil, 2*cycleTimeout)
	wantBoot(t, c, "A", false, "1.0.0")
	u.wantVars("after the fallback", [3]string{"A", "", ""})
	s := c.status(t)
	want(t, "last error", s.LastError, "update 2.0.0 rolled back after 3 failed boots of slot B")
	want(t, "slot B", slotInfo(s, "B"), "committed=false state=bad version=2.0.0")
}

// mergeUsr makes tree a merged-/usr system, as Debian's images and Yocto's
// with usrmerge are: /bin, /sbin and /lib move into /usr and become links
// to it. Debian's systemd looks for generators only in
// /lib/systemd/system-generators, which make install reaches as
// /usr/lib/systemd/system-generators on such a system only.
func mergeUsr(t testing.TB, tree string) {
	t.Helper()
	for _, d := range []string{"bin", "sbin", "lib"} {
		top := filepath.Join(tree, d)
		if fi, err := os.Lstat(top); err != nil || !fi.IsDir() {
			continue
		}
		moveInto(t, top, filepath.Join(tree, "usr", d))
		if err := os.RemoveAll(top); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("usr/"+d, top); err != nil {
			t.Fatal(err)
		}
	}
}

// moveInto moves the entries of src into dst, merging directories.
func moveInto(t testing.TB, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		from, to := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		fi, err := os.Lstat(to)
		if err == nil && fi.IsDir() && e.IsDir() {
			moveInto(t, from, to)
			continue
		}
		if err := os.Rename(from, to); err != nil {
			t.Fatal(err)
		}
	}
}

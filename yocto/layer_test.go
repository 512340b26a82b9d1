package yocto

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"lockd.dev/lockd/internal/testtool"
	"lockd.dev/lockd/updater/ubootenv"
)

// bbVar returns the value of NAME = "..." (or ?=, ??=, :=, +=) in a
// BitBake file, "" when it is not set there.
func bbVar(text, name string) string {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s*(\?\??|:|\+|\.)?=\s*"([^"]*)"`)
	m := re.FindStringSubmatch(text)
	if m == nil {
		return ""
	}
	return m[2]
}

func TestLayerConf(t *testing.T) {
	conf := read(t, "conf/layer.conf")
	for name, want := range map[string]string{
		"BBFILE_COLLECTIONS":       "lockd",
		"BBFILE_PATTERN_lockd":     "^${LAYERDIR}/",
		"BBFILE_PRIORITY_lockd":    "6",
		"LAYERDEPENDS_lockd":       "core",
		"LAYERSERIES_COMPAT_lockd": "wrynose",
		"LAYERVERSION_lockd":       "1",
		"BBPATH":                   ":${LAYERDIR}",
	} {
		if got := strings.TrimSpace(bbVar(conf, name)); got != want {
			t.Errorf("layer.conf: %s = %q, want %q", name, got, want)
		}
	}
	// meta-raspberrypi is optional: only dynamic layers may need it.
	if dyn := bbVar(conf, "BBFILES_DYNAMIC"); !strings.Contains(dyn, "raspberrypi:${LAYERDIR}/dynamic-layers/raspberrypi/") {
		t.Errorf("layer.conf: BBFILES_DYNAMIC = %q, want the raspberrypi dynamic layer", dyn)
	}
	if strings.Contains(bbVar(conf, "LAYERDEPENDS_lockd"), "raspberrypi") {
		t.Error("layer.conf: LAYERDEPENDS_lockd must not name raspberrypi (dynamic-layers handle it)")
	}
	// Every recipe lives where BBFILES or BBFILES_DYNAMIC finds it.
	walk(t, func(rel string) {
		if !strings.HasSuffix(rel, ".bb") && !strings.HasSuffix(rel, ".bbappend") {
			return
		}
		ok, _ := filepath.Match("recipes-*/*/*", rel)
		dyn, _ := filepath.Match("dynamic-layers/raspberrypi/*/*/*", rel)
		if !ok && !dyn {
			t.Errorf("%s: not matched by BBFILES or BBFILES_DYNAMIC", rel)
		}
	})
}

func TestLayerDocs(t *testing.T) {
	readme := read(t, "README.md")
	for _, w := range []string{"Maintainer", "lockd-devel@lists.lockd.dev", "patches", "git send-email",
		"Dependencies", "openembedded-core", "wrynose", "scarthgap", "gomod://", "meta-raspberrypi", "Upstream-Status"} {
		if !strings.Contains(readme, w) {
			t.Errorf("README.md does not mention %q", w)
		}
	}
	if sec := read(t, "SECURITY.md"); !strings.Contains(sec, "@") {
		t.Error("SECURITY.md gives no address to report to")
	}
	for _, f := range []string{"files/wic/lockd-ab.wks", "recipes-core/images/lockd-image.bb", "classes/lockd-bundle.bbclass",
		"recipes-lockd/lockd/lockd_git.bb", "recipes-lockd/lockd/lockd-go-mods.inc"} {
		if _, err := os.Stat(filepath.Join(layer, f)); err != nil {
			t.Error(err)
		}
	}
}

// walk calls fn with the path, relative to the layer, of every file in it.
func walk(t *testing.T, fn func(rel string)) {
	t.Helper()
	err := filepath.WalkDir(layer, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(layer, p)
		fn(filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLayerHygiene(t *testing.T) {
	network := regexp.MustCompile(`(?m)^\s*(do_\w+)\[network\]\s*=\s*"1"`)
	walk(t, func(rel string) {
		b, err := os.ReadFile(filepath.Join(layer, rel))
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if strings.HasSuffix(rel, ".patch") && !regexp.MustCompile(`(?m)^Upstream-Status: (Pending|Submitted|Backport|Denied|Inappropriate|Inactive-Upstream)`).MatchString(text) {
			t.Errorf("%s: no valid Upstream-Status: line", rel)
		}
		for _, m := range network.FindAllStringSubmatch(text, -1) {
			if m[1] != "do_fetch" {
				t.Errorf("%s: %s gets network access; only do_fetch may", rel, m[1])
			}
		}
		if strings.Contains(text, "${AUTOREV}") {
			t.Errorf("%s: AUTOREV reaches the network at parse time", rel)
		}
		if strings.Contains(text, "PRIVATE KEY") || strings.HasSuffix(rel, ".key") {
			t.Errorf("%s: a key in the layer", rel)
		}
	})
}

// TestSlotsAgree checks that the partition layout, the boot script,
// fw_env.config and lockd's default configuration name the same
// partitions and environment.
func TestSlotsAgree(t *testing.T) {
	var parts []string
	for _, l := range strings.Split(read(t, "files/wic/lockd-ab.wks"), "\n") {
		if strings.HasPrefix(l, "part ") {
			parts = append(parts, l)
		}
	}
	if len(parts) != 4 {
		t.Fatalf("lockd-ab.wks: %d partitions, want boot, rootA, rootB, data", len(parts))
	}
	for i, want := range []string{"--label boot", "--label rootA", "--label rootB", "--label data"} {
		if !strings.Contains(parts[i], want) {
			t.Errorf("partition %d: %q, want %s", i+1, parts[i], want)
		}
	}
	if !strings.Contains(parts[0], "--fstype=vfat") || !strings.Contains(parts[0], "/boot/firmware") {
		t.Errorf("boot partition: %q", parts[0])
	}
	size := regexp.MustCompile(`--fixed-size \S+`)
	if a, b := size.FindString(parts[1]), size.FindString(parts[2]); a == "" || a != b ||
		!strings.Contains(parts[1], "--fstype=ext4") || !strings.Contains(parts[2], "--fstype=ext4") {
		t.Errorf("slots differ or are not fixed-size ext4:\n%s\n%s", parts[1], parts[2])
	}
	if !strings.HasPrefix(parts[3], "part /var/lib/lockd ") || !strings.Contains(parts[3], "--fstype=ext4") {
		t.Errorf("data partition: %q", parts[3])
	}
	if !strings.Contains(read(t, "recipes-core/lockd-mounts/files/var-lib-lockd.mount"), "What=/dev/disk/by-label/data") {
		t.Error("var-lib-lockd.mount does not mount the data partition by label")
	}

	toml, err := os.ReadFile("../systemd/lockd.toml")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range []string{`slot_a = "/dev/mmcblk0p2"`, `slot_b = "/dev/mmcblk0p3"`,
		`fw_env_config = "/etc/fw_env.config"`, `bootloader = "uboot"`} {
		if !strings.Contains(string(toml), "\n"+kv) {
			t.Errorf("systemd/lockd.toml (the image's /etc/lockd/lockd.toml) lacks %s", kv)
		}
	}

	script := read(t, bootScript)
	for _, w := range []string{"root=/dev/mmcblk0p${lk_part}", "lk_part=2", "lk_part=3", "lk_bootpart=1", "uboot.env"} {
		if !strings.Contains(script, w) {
			t.Errorf("boot.cmd.in lacks %q", w)
		}
	}
	cfg, err := ubootenv.ParseConfig(filepath.Join(layer, "recipes-bsp/lockd-fw-env/files/fw_env.config"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Copies) != 1 || cfg.Copies[0].Path != "/boot/firmware/uboot.env" || cfg.Copies[0].Offset != 0 || cfg.Copies[0].Size != envSize {
		t.Errorf("fw_env.config: %+v, want one copy of %#x bytes at /boot/firmware/uboot.env", cfg.Copies, envSize)
	}
	if !strings.Contains(script, "lk_envsize="+"0x4000") {
		t.Errorf("boot.cmd.in does not save %#x bytes, the size in fw_env.config", envSize)
	}
}

func TestRecipe(t *testing.T) {
	bb := read(t, "recipes-lockd/lockd/lockd_git.bb")
	for _, w := range []string{
		"inherit go-mod systemd useradd", `GO_IMPORT = "lockd.dev/lockd"`,
		"${GO_IMPORT}/cmd/lockd", "${GO_IMPORT}/cmd/lockctl", `CGO_ENABLED = "1"`,
		`SYSTEMD_SERVICE:${PN} = "lockd.service"`, "require lockd-go-mods.inc", `BBCLASSEXTEND = "native"`,
		"--system lockd;", "--system lockd-admin;", "--system gpio",
		"${datadir}/dbus-1/system.d", "${datadir}/dbus-1/system-services", "${systemd_unitdir}/system-generators",
		"${systemd_unitdir}/system.conf.d", `CONFFILES:${PN} = "${sysconfdir}/lockd/lockd.toml"`,
	} {
		if !strings.Contains(bb, w) {
			t.Errorf("lockd_git.bb lacks %q", w)
		}
	}
	// The recipe installs every file of systemd/ (all but its Go tests)
	// and nothing that is not there.
	installed := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$s/([\w.@-]+)`).FindAllStringSubmatch(bb, -1) {
		installed[m[1]] = true
	}
	for _, f := range []string{"lockd.service", "io.lockd.Lock1.conf", "io.lockd.Lock1.service", "io.lockd.Lock1.xml",
		"lockd.sysusers", "lockd.tmpfiles", "60-lockd-gpio.rules", "lockd-trial-generator", "50-lockd-watchdog.conf",
		"lockd.toml", "lockctl.bash-completion"} {
		if !installed[f] {
			t.Errorf("lockd_git.bb does not install systemd/%s", f)
		}
	}
	entries, err := os.ReadDir("../systemd")
	if err != nil {
		t.Fatal(err)
	}
	// Files of systemd/ that another recipe of the layer ships in the
	// image, with the same settings (lockd would conflict with it).
	elsewhere := map[string]string{"fw_env.config": "recipes-bsp/lockd-fw-env/files/fw_env.config"}
	inRepo := map[string]bool{}
	for _, e := range entries {
		if other, ok := elsewhere[e.Name()]; ok {
			if !sameSettings(t, filepath.Join("../systemd", e.Name()), filepath.Join(layer, other)) {
				t.Errorf("systemd/%s and the layer's %s differ beyond their comments", e.Name(), other)
			}
			continue
		}
		if !e.IsDir() && filepath.Ext(e.Name()) != ".go" {
			inRepo[e.Name()] = true
			if !installed[e.Name()] {
				t.Errorf("systemd/%s is not installed by lockd_git.bb", e.Name())
			}
		}
	}
	for f := range installed {
		if !inRepo[f] {
			t.Errorf("lockd_git.bb installs systemd/%s, which does not exist", f)
		}
	}
	// go-mods.inc appends (+=) to SRC_URI: after the assignment, or the
	// assignment throws the module lines away.
	assign := regexp.MustCompile(`(?m)^SRC_URI\s*=`).FindStringIndex(bb)
	req := strings.Index(bb, "\nrequire lockd-go-mods.inc")
	if assign == nil || req < 0 || req < assign[0] {
		t.Error("lockd_git.bb: `require lockd-go-mods.inc` must come after `SRC_URI = ...`, which would replace its gomod:// lines")
	}
	if !strings.Contains(bb, `${datadir}/polkit-1`) {
		t.Error("lockd_git.bb: FILES lacks ${datadir}/polkit-1, which do_install fills (installed-vs-shipped)")
	}
	if !strings.Contains(bb, `REQUIRED_DISTRO_FEATURES:class-native = ""`) {
		t.Error("lockd_git.bb: lockd-native needs REQUIRED_DISTRO_FEATURES cleared (native DISTRO_FEATURES never hold systemd)")
	}
	inc := read(t, "recipes-lockd/lockd/lockd-go-mods.inc")
	if !strings.Contains(inc, "gomod://github.com/mattn/go-sqlite3;version=") || !strings.Contains(inc, "file://pkg/mod/") {
		t.Error("lockd-go-mods.inc: no go-sqlite3 module or no licence checksums")
	}

	cls := read(t, "classes/lockd-bundle.bbclass")
	for _, w := range []string{"lockd bundle create", `--key "${LOCKD_BUNDLE_KEY}"`, `--compatible "${LOCKD_COMPATIBLE}"`,
		`--version "${LOCKD_VERSION}"`, "lockd-native:do_populate_sysroot", "bbfatal", "LOCKD_BUNDLE_KEY is not set"} {
		if !strings.Contains(cls, w) {
			t.Errorf("lockd-bundle.bbclass lacks %q", w)
		}
	}
	if v := bbVar(cls, "LOCKD_BUNDLE_KEY"); v != "" {
		t.Errorf("lockd-bundle.bbclass: LOCKD_BUNDLE_KEY defaults to %q; a key path belongs in local.conf", v)
	}
	if strings.Contains(cls, "${IMAGE_NAME}${IMAGE_NAME_SUFFIX}") {
		t.Error("lockd-bundle.bbclass: IMAGE_NAME already ends in IMAGE_NAME_SUFFIX (since 4.3); the rootfs is ${IMAGE_NAME}.ext4")
	}
	img := read(t, "recipes-core/images/lockd-image.bb")
	for _, w := range []string{`WKS_FILE = "lockd-ab.wks"`, "inherit core-image lockd-bundle", "lockd-mounts", "lockd-fw-env"} {
		if !strings.Contains(img, w) {
			t.Errorf("lockd-image.bb lacks %q", w)
		}
	}
	app := read(t, "dynamic-layers/raspberrypi/recipes-bsp/rpi-u-boot-scr/rpi-u-boot-scr.bbappend")
	if !strings.Contains(app, `FILESEXTRAPATHS:prepend := "${THISDIR}/files:"`) {
		t.Error("rpi-u-boot-scr.bbappend does not put its boot.cmd.in first")
	}
}

// TestSrcrev checks that the commit the recipe builds holds every file
// do_install takes from systemd/, docs/ and the top directory, and the go.sum that lockd-go-mods.inc
// was generated from (the .inc is checked against today's go.sum). A
// SRCREV left behind the recipe fails do_install or do_compile in a
// Yocto build, where nothing here would notice.
func TestSrcrev(t *testing.T) {
	git := testtool.Need(t, "git", "git")
	bb := read(t, "recipes-lockd/lockd/lockd_git.bb")
	rev := bbVar(bb, "SRCREV")
	if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(rev) {
		t.Fatalf("lockd_git.bb: SRCREV = %q, want a full commit hash", rev)
	}
	if out, err := exec.Command(git, "cat-file", "-e", rev+"^{commit}").CombinedOutput(); err != nil {
		t.Fatalf("SRCREV %s is not a commit of this repository (%v %s); a shallow clone? fetch the history", rev, err, out)
	}
	if out, err := exec.Command(git, "merge-base", "--is-ancestor", rev, "HEAD").CombinedOutput(); err != nil {
		t.Fatalf("SRCREV %s is not in the history of HEAD: %v %s", rev, err, out)
	}
	show := func(path string) []byte {
		t.Helper()
		out, err := exec.Command(git, "show", rev+":"+path).Output()
		if err != nil {
			t.Errorf("SRCREV %s has no %s, which the recipe needs: %v", rev[:12], path, err)
			return nil
		}
		return out
	}
	for _, m := range regexp.MustCompile(`\$s/([\w.@-]+)`).FindAllStringSubmatch(bb, -1) {
		show("systemd/" + m[1])
	}
	for _, m := range regexp.MustCompile(`\$doc/([\w.@-]+)`).FindAllStringSubmatch(bb, -1) {
		show("docs/" + m[1])
	}
	for _, m := range regexp.MustCompile(`\$top/([\w.@-]+)`).FindAllStringSubmatch(bb, -1) {
		show(m[1])
	}
	if sum, err := os.ReadFile("../go.sum"); err != nil {
		t.Fatal(err)
	} else if got := show("go.sum"); got != nil && string(got) != string(sum) {
		t.Errorf("go.sum at SRCREV %s differs from today's, from which lockd-go-mods.inc is generated: bump SRCREV and run make yocto-gomod", rev[:12])
	}
}

// TestVerifyLayerUnits runs `systemd-analyze verify` on the layer's mount
// units and on lockd.service with the layer's data drop-in, as the image
// installs them. A canary key proves verify reads the drop-in directory.
func TestVerifyLayerUnits(t *testing.T) {
	analyze := testtool.Need(t, "systemd-analyze", "systemd")
	dir := t.TempDir()
	files := filepath.Join(layer, "recipes-core/lockd-mounts/files")
	copyTo := func(src, dst string) {
		t.Helper()
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyTo(filepath.Join(files, "var-lib-lockd.mount"), filepath.Join(dir, "var-lib-lockd.mount"))
	copyTo(filepath.Join(files, "boot-firmware.mount"), filepath.Join(dir, "boot-firmware.mount"))
	copyTo(filepath.Join(files, "10-lockd-data.conf"), filepath.Join(dir, "lockd.service.d", "10-lockd-data.conf"))
	// verify wants ExecStart's binary to exist: true(1) stands in for
	// /usr/bin/lockd, every other line as shipped.
	unit, err := os.ReadFile("../systemd/lockd.service")
	if err != nil {
		t.Fatal(err)
	}
	unit = regexp.MustCompile(`(?m)^ExecStart=/usr/bin/lockd `).ReplaceAll(unit, []byte("ExecStart=/bin/true "))
	if err := os.WriteFile(filepath.Join(dir, "lockd.service"), unit, 0o644); err != nil {
		t.Fatal(err)
	}
	verify := func(units ...string) string {
		cmd := exec.Command(analyze, append([]string{"verify", "--man=no"}, units...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil && len(out) == 0 {
			t.Fatalf("systemd-analyze verify: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	canary := filepath.Join(dir, "lockd.service.d", "99-canary.conf")
	if err := os.WriteFile(canary, []byte("[Unit]\nLockdCanary=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := verify("./lockd.service"); !strings.Contains(out, "LockdCanary") {
		t.Fatalf("systemd-analyze verify ignores drop-ins in %s; output:\n%s", filepath.Dir(canary), out)
	}
	if err := os.Remove(canary); err != nil {
		t.Fatal(err)
	}
	if out := verify("./var-lib-lockd.mount", "./boot-firmware.mount", "./lockd.service"); out != "" {
		t.Errorf("systemd-analyze verify of the layer's units is not clean:\n%s", out)
	}
}

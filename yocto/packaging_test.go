package yocto

import (
	"crypto/md5"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocumentationShipped: every file:// page that a unit the image
// installs names in Documentation= is installed by lockd_git.bb into the
// lockd package itself (images leave -doc packages out).
func TestDocumentationShipped(t *testing.T) {
	bb := read(t, "recipes-lockd/lockd/lockd_git.bb")
	mounts := filepath.Join(layer, "recipes-core/lockd-mounts/files")
	for _, u := range []string{"../systemd/lockd.service",
		filepath.Join(mounts, "var-lib-lockd.mount"), filepath.Join(mounts, "boot-firmware.mount")} {
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`(?m)^Documentation=(.*)$`).FindAllStringSubmatch(string(b), -1) {
			for _, uri := range strings.Fields(m[1]) {
				p, ok := strings.CutPrefix(uri, "file:///usr/share/doc/lockd/")
				if !ok {
					if strings.HasPrefix(uri, "file://") {
						t.Errorf("%s: Documentation=%s is outside /usr/share/doc/lockd, which the recipe installs", u, uri)
					}
					continue
				}
				if !strings.Contains(bb, "$doc/"+p+" ${D}${docdir}/lockd/") {
					t.Errorf("%s: Documentation=%s, but lockd_git.bb does not install docs/%s into ${docdir}/lockd", u, uri, p)
				}
			}
		}
	}
	for _, w := range []string{`FILES:${PN}-doc:remove = "${docdir}"`, "${docdir}/lockd \\"} {
		if !strings.Contains(bb, w) {
			t.Errorf("lockd_git.bb lacks %q: the design would go to lockd-doc, which images leave out", w)
		}
	}
}

// TestLicense: the recipe declares lockd's licence with the md5 of the
// LICENSE file at the repository's root, before the modules' checksums
// are appended; the layer's other recipes are under the same licence.
func TestLicense(t *testing.T) {
	text, err := os.ReadFile("../LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(strings.TrimSpace(string(text)), "Apache License\n                           Version 2.0, January 2004") {
		t.Error("LICENSE is not the Apache License 2.0 text")
	}
	bb := read(t, "recipes-lockd/lockd/lockd_git.bb")
	if got := bbVar(bb, "LICENSE"); got != "Apache-2.0 & ${LOCKD_GO_MODS_LICENSE}" {
		t.Errorf("lockd_git.bb: LICENSE = %q, want lockd's Apache-2.0 and the modules' licences", got)
	}
	want := fmt.Sprintf("file://src/${GO_IMPORT}/LICENSE;md5=%x", md5.Sum(text))
	if got := bbVar(bb, "LIC_FILES_CHKSUM"); got != want {
		t.Errorf("lockd_git.bb: LIC_FILES_CHKSUM = %q, want %q (the md5 of LICENSE)", got, want)
	}
	// lockd-go-mods.inc appends (+=): an assignment after it would drop
	// the modules' checksums.
	assign := regexp.MustCompile(`(?m)^LIC_FILES_CHKSUM\s*=`).FindStringIndex(bb)
	if req := strings.Index(bb, "\nrequire lockd-go-mods.inc"); assign == nil || req < assign[0] {
		t.Error("lockd_git.bb: LIC_FILES_CHKSUM must be assigned before `require lockd-go-mods.inc`")
	}
	if strings.Contains(bb, "CLOSED") {
		t.Error("lockd_git.bb still mentions CLOSED")
	}
	const common = "file://${COMMON_LICENSE_DIR}/Apache-2.0;md5=89aea4e17d99a7cacdbeed46a0096b10"
	for _, r := range []string{"recipes-core/lockd-mounts/lockd-mounts.bb", "recipes-bsp/lockd-fw-env/lockd-fw-env.bb"} {
		text := read(t, r)
		if bbVar(text, "LICENSE") != "Apache-2.0" || bbVar(text, "LIC_FILES_CHKSUM") != common {
			t.Errorf("%s: LICENSE = %q, LIC_FILES_CHKSUM = %q; want Apache-2.0, %s", r, bbVar(text, "LICENSE"), bbVar(text, "LIC_FILES_CHKSUM"), common)
		}
	}
	if got := bbVar(read(t, "recipes-core/images/lockd-image.bb"), "LICENSE"); got != "Apache-2.0" {
		t.Errorf("lockd-image.bb: LICENSE = %q, want Apache-2.0", got)
	}
}

// TestPolkitRulesDir: polkit ships ${datadir}/polkit-1/rules.d as
// polkitd:root 0700. A recipe that creates it otherwise conflicts with
// polkit in do_rootfs (rpm) or, with ipk, may leave it unreadable to
// polkitd, so lockd's reboot rule and every other one would be ignored.
func TestPolkitRulesDir(t *testing.T) {
	bb := read(t, "recipes-lockd/lockd/lockd_git.bb")
	const dir = "${D}${datadir}/polkit-1/rules.d"
	if !strings.Contains(bb, "install -d -m 0700 "+dir+"\n") || !strings.Contains(bb, "chown polkitd:root "+dir+"\n") {
		t.Errorf("lockd_git.bb must create %s as polkit does: install -d -m 0700, chown polkitd:root", dir)
	}
	for _, l := range strings.Split(bb, "\n") {
		if strings.Contains(l, "install -d") && strings.Contains(l, "polkit-1") && !strings.HasSuffix(strings.TrimSpace(l), "install -d -m 0700 "+dir) {
			t.Errorf("lockd_git.bb: %q creates a polkit directory with another mode", strings.TrimSpace(l))
		}
	}
	if !regexp.MustCompile(`--user-group[^;"]* polkitd"`).MatchString(bb) {
		t.Error("lockd_git.bb: USERADD_PARAM does not create polkitd (with its group), which chown needs at build time")
	}
}

// TestUseraddMatchesSysusers: the user the recipe creates at build time
// is the one lockd.sysusers describes (home, shell, groups), so images
// built either way agree and oe-core's sysusers check stays quiet.
func TestUseraddMatchesSysusers(t *testing.T) {
	b, err := os.ReadFile("../systemd/lockd.sysusers")
	if err != nil {
		t.Fatal(err)
	}
	var home, shell string
	for _, l := range strings.Split(string(b), "\n") {
		if f := regexp.MustCompile(`^u\s+lockd\s+-\s+"[^"]*"\s+(\S+)\s+(\S+)`).FindStringSubmatch(l); f != nil {
			home, shell = f[1], f[2]
		}
	}
	if home == "" {
		t.Fatal("lockd.sysusers has no `u lockd` line with a home and a shell")
	}
	bb := read(t, "recipes-lockd/lockd/lockd_git.bb")
	param := strings.ReplaceAll(bbVar(strings.ReplaceAll(bb, "\\\n", " "), "USERADD_PARAM:${PN}"), "${sbindir}", "/usr/sbin")
	var lockd string
	for _, u := range strings.Split(param, ";") {
		if strings.HasSuffix(strings.TrimSpace(u), " lockd") {
			lockd = u
		}
	}
	for _, w := range []string{"--home-dir " + home + " ", "--shell " + shell + " ", "--gid lockd ", "--groups gpio "} {
		if !strings.Contains(lockd+" ", w) {
			t.Errorf("lockd_git.bb: USERADD_PARAM for lockd %q lacks %q (lockd.sysusers)", strings.Join(strings.Fields(lockd), " "), strings.TrimSpace(w))
		}
	}
}

// TestNewKeyRebuildsRootfs: the public key goes into the rootfs by a
// postprocess command that only names its path; its contents must be in
// do_rootfs's signature, or a new key at the same path re-signs a bundle
// whose rootfs still trusts the old one.
func TestNewKeyRebuildsRootfs(t *testing.T) {
	cls := read(t, "classes/lockd-bundle.bbclass")
	for _, w := range []string{
		`do_rootfs[file-checksums] += "${@'%s:True' % d.getVar('LOCKD_BUNDLE_PUBKEY')`,
		`do_image_lockdb[file-checksums] += "${@'%s:True' % d.getVar('LOCKD_BUNDLE_KEY')`,
	} {
		if !strings.Contains(cls, w) {
			t.Errorf("lockd-bundle.bbclass lacks %s", w)
		}
	}
}

// TestImageMachines: the image boots only through meta-raspberrypi's
// U-Boot and the layer's boot script, so it says so instead of building
// a card with an empty boot partition for any other machine.
func TestImageMachines(t *testing.T) {
	img := read(t, "recipes-core/images/lockd-image.bb")
	if got := bbVar(img, "COMPATIBLE_MACHINE"); got != "^rpi$" {
		t.Errorf("lockd-image.bb: COMPATIBLE_MACHINE = %q, want ^rpi$", got)
	}
	if !strings.Contains(img, "RPI_USE_U_BOOT") || !strings.Contains(img, "SkipRecipe") {
		t.Error("lockd-image.bb does not refuse a Pi build without RPI_USE_U_BOOT")
	}
}

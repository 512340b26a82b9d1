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

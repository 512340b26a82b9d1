package yocto

import (
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

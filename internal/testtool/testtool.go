// Package testtool finds the programs and files tests need, and decides
// the same way in every package what a missing one means: as a developer
// without it, the test skips and says which Debian package to install;
// under CI=true it fails, because CI installs everything (`make deps`) and
// a test that skips itself in CI proves nothing.
package testtool

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// CI reports whether the tests run under CI=true.
func CI() bool { return os.Getenv("CI") == "true" }

// Need returns the path of tool (also looked for in /usr/sbin and /sbin,
// which a normal user's PATH often lacks), from Debian package pkg.
func Need(t testing.TB, tool, pkg string) string {
	t.Helper()
	if p, err := exec.LookPath(tool); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		if p, err := exec.LookPath(filepath.Join(dir, tool)); err == nil {
			return p
		}
	}
	missing(t, tool, pkg)
	return ""
}

// NeedFile returns path, a file Debian package pkg installs.
func NeedFile(t testing.TB, path, pkg string) string {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return path
	}
	missing(t, path, pkg)
	return ""
}

func missing(t testing.TB, what, pkg string) {
	t.Helper()
	if CI() {
		t.Fatalf("%s not found, and CI=true forbids skipping: run `make deps` (Debian package %s)", what, pkg)
	}
	t.Skipf("%s not found: install Debian's %s (`sudo make deps`) to run this test", what, pkg)
}

// NeedRoot skips the test unless it runs as root (fails under CI=true);
// why says what needs it.
func NeedRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if CI() {
		t.Fatalf("%s needs root, and CI=true forbids skipping: run the tests as root", why)
	}
	t.Skipf("%s needs root: run `sudo make test` to check it", why)
}

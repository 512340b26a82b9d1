package yocto

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// layer is meta-lockd, relative to this package.
const layer = "meta-lockd"

// need returns the path of tool, or skips the test when it is missing.
// Under CI=true a missing tool fails instead: CI installs everything
// (`make deps`), so a missing tool there is a bug, never a reason to skip.
func need(t *testing.T, tool, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		p, err = exec.LookPath(filepath.Join("/usr/sbin", tool))
	}
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found, and CI=true forbids skipping: run `make deps` (Debian package %s)", tool, pkg)
	}
	t.Skipf("%s not found: install Debian's %s (`sudo make deps`) to run this test", tool, pkg)
	return ""
}

// needFile is need for a file a Debian package installs.
func needFile(t *testing.T, path, pkg string) string {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found, and CI=true forbids skipping: run `make deps` (Debian package %s)", path, pkg)
	}
	t.Skipf("%s not found: install Debian's %s (`sudo make deps`) to run this test", path, pkg)
	return ""
}

// run runs a command and fails the test with its output if it fails.
func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
	return out
}

// read returns a layer file's contents.
func read(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(layer, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

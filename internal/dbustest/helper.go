package dbustest

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// helperFlag, as the first argument, makes a test binary run one helper
// instead of its tests (RunHelpers).
const helperFlag = "-dbustest.helper"

// HelperFunc is a client a test runs in its own process, as another user:
// for what busctl, gdbus and dbus-send cannot send (descriptors with any
// call, raw messages, many connections). address is the bus's.
type HelperFunc func(address string, args []string) error

// RunHelpers runs the helper the command line names and exits, when
// Helper or SpawnHelper started this binary; otherwise it returns at once.
// Call it first in TestMain.
func RunHelpers(helpers map[string]HelperFunc) {
	if len(os.Args) < 4 || os.Args[1] != helperFlag {
		return
	}
	h, ok := helpers[os.Args[2]]
	if !ok {
		fmt.Fprintf(os.Stderr, "dbustest: no helper %q\n", os.Args[2])
		os.Exit(2)
	}
	if err := h(os.Args[3], os.Args[4:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// Helper runs the helper name of this test binary as u and waits for it.
func (b *Bus) Helper(t testing.TB, u User, name string, args ...string) Result {
	t.Helper()
	return b.Run(t, u, selfCopy(t), append([]string{helperFlag, name, b.Address}, args...)...)
}

// SpawnHelper starts the helper name of this test binary as u; it stops
// with the test.
func (b *Bus) SpawnHelper(t testing.TB, u User, name string, args ...string) *Process {
	t.Helper()
	return b.Spawn(t, u, selfCopy(t), append([]string{helperFlag, name, b.Address}, args...)...)
}

// selfCopy returns the test binary at a path another user may execute:
// go test builds it in a directory only its owner can enter.
func selfCopy(t testing.TB) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatalf("dbustest: %v", err)
	}
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatalf("dbustest: %v", err)
		}
	}
	dst := filepath.Join(dir, filepath.Base(self))
	if os.Link(self, dst) == nil && os.Chmod(dst, 0o755) == nil {
		return dst
	}
	if err := copyFile(self, dst); err != nil {
		t.Fatalf("dbustest: copy the test binary: %v", err)
	}
	return dst
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

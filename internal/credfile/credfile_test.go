package credfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lockd.dev/lockd/internal/testtool"
)

// TestRead: only a root-only regular file is read; systemd's copy wins
// over it, and the original is checked all the same.
func TestRead(t *testing.T) {
	testtool.NeedRoot(t, "a credential file must be root's: this test makes them")
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	write := func(p, body string, mode os.FileMode, uid int) {
		t.Helper()
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, uid, 0); err != nil {
			t.Fatal(err)
		}
	}
	write(path, "s3cret", 0o600, 0)
	if b, err := Read(path, "", "x"); err != nil || string(b) != "s3cret" {
		t.Fatalf("Read: %q %v", b, err)
	}
	for _, c := range []struct {
		mode os.FileMode
		uid  int
	}{{0o640, 0}, {0o604, 0}, {0o644, 0}, {0o600, 65534}, {0o400, 65534}} {
		write(path, "s3cret", c.mode, c.uid)
		b, err := Read(path, "", "x")
		if !errors.Is(err, ErrNotRootOnly) || b != nil {
			t.Errorf("mode %04o uid %d: %q %v, want ErrNotRootOnly", c.mode, c.uid, b, err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("the error shows the secret: %v", err)
		}
	}
	if _, err := Read(dir, "", "x"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a directory: %v", err)
	}
	if _, err := Read(filepath.Join(dir, "missing"), "", "x"); !IsNotExist(err) {
		t.Errorf("a missing file: %v, want IsNotExist", err)
	}

	creds := filepath.Join(dir, "creds")
	if err := os.Mkdir(creds, 0o700); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(creds, "x"), "copy", 0o400, 0)
	write(path, "original", 0o600, 0)
	if b, err := Read(path, creds, "x"); err != nil || string(b) != "copy" {
		t.Errorf("with a copy: %q %v, want the copy", b, err)
	}
	if b, err := Read(path, creds, "other"); err != nil || string(b) != "original" {
		t.Errorf("with no copy of that name: %q %v, want the original", b, err)
	}
	write(path, "original", 0o644, 0)
	if _, err := Read(path, creds, "x"); !errors.Is(err, ErrNotRootOnly) {
		t.Errorf("a readable original with a copy: %v, want ErrNotRootOnly", err)
	}
	if _, err := Read(filepath.Join(dir, "missing"), creds, "x"); !IsNotExist(err) {
		t.Errorf("a missing original with a copy: %v, want IsNotExist", err)
	}
}

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"lockd.dev/lockd/internal/statelock"
)

// TestSelftestRefusedWhileLockdRuns: the walk drives lockd's pins, so it
// refuses while a lockd holds the state directory, and says which one.
func TestSelftestRefusedWhileLockdRuns(t *testing.T) {
	dir := t.TempDir()
	held, err := statelock.Acquire(dir) // stands for the running lockd
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	var out, errOut bytes.Buffer
	err = selftestCmd(context.Background(), []string{"--state-dir", dir, "--config", filepath.Join(dir, "none.toml")},
		strings.NewReader(""), &out, &errOut)
	if !errors.Is(err, statelock.ErrBusy) || !strings.Contains(err.Error(), "lockd pid") || !strings.Contains(err.Error(), "systemctl stop lockd") {
		t.Errorf("selftest beside a running lockd: %v, want a refusal naming its pid and how to stop it", err)
	}
}

// TestSelftestLeavesLockForLockd: run as root on a state directory that
// belongs to user lockd, the walk must not leave a lock file lockd cannot
// open afterwards.
func TestSelftestLeavesLockForLockd(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("needs root, which CI=true promises")
		}
		t.Skip("needs root to own a directory as another user")
	}
	dir := t.TempDir()
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	release, err := holdStateDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	release()
	fi, err := os.Stat(filepath.Join(dir, statelock.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if uid, gid := fileIDs(fi); uid != 65534 || gid != 65534 {
		t.Errorf("lock file owned by %d:%d, want the directory's owner 65534:65534", uid, gid)
	}
}

// TestSelftestSim walks the simulated board end to end through the
// command, as `lockd selftest --sim` shows an installer.
func TestSelftestSim(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := selftestCmd(context.Background(), []string{"--sim"}, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("lockd selftest --sim: %v\n%s%s", err, out.String(), errOut.String())
	}
	for _, w := range []string{"Press 5 on the keypad", "Open the door.", "bolt.limit_locked", "every pin OK"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out.String())
		}
	}
}

func fileIDs(fi os.FileInfo) (uid, gid uint32) {
	st := fi.Sys().(*syscall.Stat_t)
	return st.Uid, st.Gid
}

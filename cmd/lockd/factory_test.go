package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/internal/statelock"
	"lockd.dev/lockd/internal/testtool"
)

// TestFactoryInitOwner: as root, factory-init gives its files to the owner
// of the state directory (systemd-tmpfiles made it user lockd's), or to
// --user; a directory it creates for --user is that user's too. Every
// file stays 0600.
func TestFactoryInitOwner(t *testing.T) {
	testtool.NeedRoot(t, "giving files to another user")
	const nobody = 65534
	owned := t.TempDir()
	if err := os.Chown(owned, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(t.TempDir(), "state")
	for _, tc := range []struct {
		name string
		dir  string
		args []string
	}{
		{"directory's owner", owned, nil},
		{"--user", fresh, []string{"--user", "nobody"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			args := append([]string{"--state-dir", tc.dir}, tc.args...)
			if err := factoryInit(args, &out, &out); err != nil {
				t.Fatalf("factory-init %s: %v\n%s", strings.Join(args, " "), err, &out)
			}
			if !strings.Contains(out.String(), "belong to nobody:") {
				t.Errorf("factory-init does not say who owns the files:\n%s", &out)
			}
			for _, name := range []string{".", codes.DeviceKeyName, codes.SetupDigestName, statelock.FileName} {
				fi, err := os.Stat(filepath.Join(tc.dir, name))
				if err != nil {
					t.Fatal(err)
				}
				st := fi.Sys().(*syscall.Stat_t)
				if st.Uid != nobody || (name != "." && fi.Mode().Perm() != 0o600) {
					t.Errorf("%s: %v uid %d, want uid %d and 0600 for files", name, fi.Mode(), st.Uid, nobody)
				}
			}
		})
	}
}

// TestFactoryInitKeepsOwnFiles: factory-init into the caller's own
// directory changes no owner and says nothing about owners.
func TestFactoryInitKeepsOwnFiles(t *testing.T) {
	var out bytes.Buffer
	dir := t.TempDir()
	if err := factoryInit([]string{"--state-dir", dir}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "belong to") {
		t.Errorf("factory-init into its own directory talks about owners:\n%s", &out)
	}
	fi, err := os.Stat(filepath.Join(dir, codes.DeviceKeyName))
	if err != nil || fi.Sys().(*syscall.Stat_t).Uid != uint32(os.Geteuid()) {
		t.Errorf("device key: %v %v", fi, err)
	}
}

package ubootenvtest_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"lockd.dev/lockd/updater/ubootenv/ubootenvtest"
)

// TestLoseUnsynced: at the cut, writes since a file's last Sync are
// undone (its old bytes and length come back), also after a rename;
// synced writes stay; the replaced file of a rename loses nothing more.
func TestLoseUnsynced(t *testing.T) {
	dir := t.TempDir()
	kept, lost, moved := filepath.Join(dir, "kept"), filepath.Join(dir, "lost"), filepath.Join(dir, "moved")
	for _, p := range []string{kept, lost} {
		if err := os.WriteFile(p, []byte("old!"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	st := &ubootenvtest.Storage{LoseUnsynced: true, CutAt: 9}
	write := func(path string, data string, off int64, sync bool) {
		t.Helper()
		d, err := st.Open(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if _, err := d.WriteAt([]byte(data), off); err != nil {
			t.Fatal(err)
		}
		if sync {
			if err := d.Sync(); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(kept, "new!", 0, true)       // ops 1-3: create, write, sync
	write(lost, "NEW!+more", 0, false) // ops 4-5: create, write
	tmp := filepath.Join(dir, "tmp")
	write(tmp, "temp", 0, false)                  // ops 6-7
	if err := st.Rename(tmp, moved); err != nil { // op 8
		t.Fatal(err)
	}
	if err := st.SyncDir(dir); !errors.Is(err, ubootenvtest.ErrPowerCut) { // op 9: the cut
		t.Fatalf("op 9: %v, want the cut", err)
	}
	for path, want := range map[string]string{kept: "new!", lost: "old!", moved: ""} {
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s after the cut: %q, want %q", filepath.Base(path), got, want)
		}
	}
}

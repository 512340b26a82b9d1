package ubootenv_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"lockd.dev/lockd/updater/ubootenv"
	"lockd.dev/lockd/updater/ubootenv/ubootenvtest"
)

// TestPowerCut cuts the power at every storage operation of an update (and
// tears every write at several lengths), then "reboots": a fresh Env on the
// real files must read the old or the new value, never neither, and so
// must fw_printenv when it is installed. A following update must succeed.
func TestPowerCut(t *testing.T) {
	fwPrintenv, _ := exec.LookPath("fw_printenv") // a cross-check, not required
	old := func(flags byte) []byte { return block(t, envSize, true, flags, "lockd_slot=A", "v=old") }
	for _, tc := range []struct {
		name  string
		files [][]byte
	}{
		{"redundant, fresh pair", [][]byte{old(1), old(1)}},
		{"redundant, copy 2 in use", [][]byte{old(5), old(6)}},
		{"redundant, flags wrap", [][]byte{old(0xff), old(0xfe)}},
		{"redundant, copy 2 corrupt", [][]byte{old(3), corrupt(old(9))}},
		{"single file, replaced by rename", [][]byte{block(t, envSize, false, 0, "lockd_slot=A", "v=old")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSetup(t, tc.files...)
			initial := s.snapshot(t)
			ops := countOps(t, s)
			for k := 1; k <= len(ops); k++ {
				torns := []int{0}
				if strings.HasPrefix(ops[k-1], "write") {
					torns = []int{0, 1, 4, 5, envSize / 2, -1} // in the CRC, the flags byte, the data
				}
				for _, torn := range torns {
					s.restore(t, initial)
					cut := &ubootenvtest.Storage{CutAt: k, Torn: torn, LoseUnsynced: true}
					err := s.open(t, ubootenv.WithStorage(cut)).Update(context.Background(), map[string]string{"v": "new", "lockd_try": "B"})
					if !errors.Is(err, ubootenvtest.ErrPowerCut) {
						t.Fatalf("cut at %q (torn %d): Update returned %v", ops[k-1], torn, err)
					}
					after := s.open(t) // the reboot
					v, _, err := after.Get(context.Background(), "v")
					if err != nil || (v != "old" && v != "new") {
						t.Fatalf("cut at %q (torn %d): after reboot v = %q, %v; want old or new", ops[k-1], torn, v, err)
					}
					if fwPrintenv != "" {
						out, err := exec.Command(fwPrintenv, "-c", s.config, "-f", filepath.Join(s.dir, "none"), "v").Output()
						if err != nil || string(out) != "v="+v+"\n" {
							t.Fatalf("cut at %q (torn %d): lockd reads v=%s, fw_printenv %q, %v", ops[k-1], torn, v, out, err)
						}
					}
					if err := after.Update(context.Background(), map[string]string{"v": "again"}); err != nil {
						t.Fatalf("cut at %q (torn %d): the next update: %v", ops[k-1], torn, err)
					}
				}
			}
		})
	}
}

// corrupt flips a bit in a copy's data area.
func corrupt(b []byte) []byte {
	b[envSize/2] ^= 1
	return b
}

// countOps runs one update without a cut and returns its storage
// operations, restoring the files afterwards.
func countOps(t *testing.T, s setup) []string {
	t.Helper()
	initial := s.snapshot(t)
	dry := &ubootenvtest.Storage{}
	if err := s.open(t, ubootenv.WithStorage(dry)).Update(context.Background(), map[string]string{"v": "new", "lockd_try": "B"}); err != nil {
		t.Fatal(err)
	}
	s.restore(t, initial)
	if len(dry.Ops) == 0 {
		t.Fatal("an update without storage operations")
	}
	t.Logf("operations of one update: %q", dry.Ops)
	return dry.Ops
}

// TestPowerCutInPlaceSingleCopy documents the one layout that cannot be
// made safe: a single copy inside a bigger file or on a block device is
// overwritten in place, so a torn write leaves it invalid. That is reported
// as ErrNoValidEnv (nothing invents a value), and every other cut leaves
// old or new.
func TestPowerCutInPlaceSingleCopy(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "disk.img")
	content := make([]byte, 3*envSize)
	copy(content[envSize:], block(t, envSize, false, 0, "v=old"))
	writeFile(t, img, content)
	s := setup{dir: dir, config: filepath.Join(dir, "fw_env.config"), files: []string{img}}
	writeFile(t, s.config, []byte(fmt.Sprintf("%s %#x %#x\n", img, envSize, envSize)))
	ops := countOps(t, s)
	if len(ops) != 2 || !strings.HasPrefix(ops[0], "write") || !strings.HasPrefix(ops[1], "sync") {
		t.Fatalf("in-place update: operations %q, want one write and one sync", ops)
	}
	for _, tc := range []struct {
		cutAt, torn int
		want        string // "old", "new" or "invalid"
	}{
		{1, 0, "old"},     // the write never started
		{1, 1, "invalid"}, // torn in the CRC
		{1, 4, "invalid"}, // the new CRC over the old data
		{1, -1, "new"},    // only the last byte, padding in both, missing
		{2, 0, "new"},     // written, not yet synced
	} {
		s.restore(t, [][]byte{content})
		cut := &ubootenvtest.Storage{CutAt: tc.cutAt, Torn: tc.torn, LoseUnsynced: true}
		if err := s.open(t, ubootenv.WithStorage(cut)).Update(context.Background(), map[string]string{"v": "new"}); !errors.Is(err, ubootenvtest.ErrPowerCut) {
			t.Fatalf("Update: %v", err)
		}
		v, _, err := s.open(t).Get(context.Background(), "v")
		if tc.want == "invalid" {
			if !errors.Is(err, ubootenv.ErrNoValidEnv) {
				t.Errorf("cut at op %d (torn %d): v = %q, %v; want ErrNoValidEnv", tc.cutAt, tc.torn, v, err)
			}
		} else if err != nil || v != tc.want {
			t.Errorf("cut at op %d (torn %d): v = %q, %v; want %s", tc.cutAt, tc.torn, v, err, tc.want)
		}
	}
}

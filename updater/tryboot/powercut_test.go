package tryboot_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/tryboot"
	"lockd.dev/lockd/updater/ubootenv/ubootenvtest"
)

// TestPowerCut cuts the power at every storage operation of Arm, Commit
// and Disarm (and tears every write at several lengths), then "reboots": a
// fresh Bootloader on the real files must read exactly the old or the new
// file, never an error, and the old one until the rename. The next
// operation must succeed and leave no temporary file behind.
func TestPowerCut(t *testing.T) {
	ctx := context.Background()
	const (
		committedA = "[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\nboot_partition=2\n"
		armedB     = "[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\nboot_partition=3\n"
		committedB = "[all]\ntryboot_a_b=1\nboot_partition=3\n[tryboot]\nboot_partition=3\n"
	)
	for _, tc := range []struct {
		name     string
		old, new string
		op       func(*tryboot.Bootloader) error
		leftover bool // a temporary file an earlier cut left
	}{
		{"arm", committedA, armedB, func(b *tryboot.Bootloader) error { return b.Arm(ctx, "B", 1) }, false},
		{"arm, adding lines", "boot_partition=2\n", "boot_partition=2\ntryboot_a_b=1\n[tryboot]\nboot_partition=3\n", func(b *tryboot.Bootloader) error { return b.Arm(ctx, "B", 1) }, false},
		{"commit", armedB, committedB, func(b *tryboot.Bootloader) error { return b.Commit(ctx, "B") }, false},
		{"disarm", armedB, committedA, func(b *tryboot.Bootloader) error { return b.Disarm(ctx) }, false},
		{"commit over a leftover temporary file", armedB, committedB, func(b *tryboot.Bootloader) error { return b.Commit(ctx, "B") }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			oldState, newState := readAs(t, tc.old), readAs(t, tc.new)
			setup := func() rig {
				r := newRig(t, tc.old)
				if tc.leftover {
					r.leave(t)
				}
				return r
			}
			ops := countOps(t, setup(), tc.new, tc.leftover, tc.op)
			rename := -1
			for i, op := range ops {
				if strings.HasPrefix(op, "rename ") {
					rename = i + 1
				}
			}
			for k := 1; k <= len(ops); k++ {
				torns := []int{0}
				if strings.HasPrefix(ops[k-1], "write ") {
					torns = []int{0, 1, len(tc.new) / 2, -1}
				}
				for _, torn := range torns {
					r := setup()
					cut := &ubootenvtest.Storage{CutAt: k, Torn: torn, LoseUnsynced: true}
					if err := tc.op(r.open(t, cut)); !errors.Is(err, ubootenvtest.ErrPowerCut) {
						t.Fatalf("cut at %q (torn %d): got %v, want a power cut", ops[k-1], torn, err)
					}
					want, wantState := tc.old, oldState // the reboot
					if k > rename {
						want, wantState = tc.new, newState
					}
					if got := r.read(t); got != want {
						t.Fatalf("cut at %q (torn %d): autoboot.txt is %q, want %q", ops[k-1], torn, got, want)
					}
					if got := r.state(t); got != wantState {
						t.Fatalf("cut at %q (torn %d): State %+v, want %+v", ops[k-1], torn, got, wantState)
					}
					if err := tc.op(r.open(t, nil)); err != nil { // the retry after the reboot
						t.Fatalf("cut at %q (torn %d): the next try: %v", ops[k-1], torn, err)
					}
					if got := r.read(t); got != tc.new {
						t.Fatalf("cut at %q (torn %d): after the next try autoboot.txt is %q, want %q", ops[k-1], torn, got, tc.new)
					}
					if l := r.leftovers(t); len(l) != 0 {
						t.Fatalf("cut at %q (torn %d): left %q behind", ops[k-1], torn, l)
					}
				}
			}
		})
	}
}

// readAs is the State of a Bootloader reading autoboot, with no flag file.
func readAs(t *testing.T, autoboot string) updater.BootState {
	t.Helper()
	return newRig(t, autoboot).state(t)
}

// countOps runs op once without a cut and returns its storage operations:
// one replacement of autoboot.txt.
// A leftover temporary file adds a failed create and a remove.
func countOps(t *testing.T, r rig, new string, leftover bool, op func(*tryboot.Bootloader) error) []string {
	t.Helper()
	dry := &ubootenvtest.Storage{}
	if err := op(r.open(t, dry)); err != nil {
		t.Fatal(err)
	}
	if got := r.read(t); got != new {
		t.Fatalf("without a cut autoboot.txt is %q, want %q", got, new)
	}
	want := []string{"create ", "write ", "sync ", "rename ", "sync ", "syncdir "} // the second sync: vfat
	if leftover {
		want = append([]string{"create ", "remove "}, want...)
	}
	if len(dry.Ops) != len(want) {
		t.Fatalf("operations %q, want %q", dry.Ops, want)
	}
	for i, w := range want {
		if !strings.HasPrefix(dry.Ops[i], w) {
			t.Fatalf("operations %q, want %q", dry.Ops, want)
		}
	}
	t.Logf("operations: %q", dry.Ops)
	return dry.Ops
}

// leave puts a torn temporary file beside autoboot.txt, as a cut does.
func (r rig) leave(t *testing.T) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(r.dir, ".autoboot.txt.lockd-tmp"), []byte("[all]\nboot_part"), 0o644); err != nil {
		t.Fatal(err)
	}
}

package bootsim_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lockd.dev/lockd/internal/testtool"
	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/bootsim"
)

func TestRule(t *testing.T) {
	for _, tc := range []struct {
		vars  map[string]string
		slot  updater.Slot
		trial bool
		save  map[string]string
	}{
		{map[string]string{}, "A", false, nil},
		{map[string]string{"lockd_slot": "B"}, "B", false, nil},
		{map[string]string{"lockd_slot": "A", "lockd_try": "B", "lockd_try_left": "3"}, "B", true, map[string]string{"lockd_try_left": "2"}},
		{map[string]string{"lockd_slot": "A", "lockd_try": "B", "lockd_try_left": "1"}, "B", true, map[string]string{"lockd_try_left": "0"}},
		{map[string]string{"lockd_slot": "A", "lockd_try": "B", "lockd_try_left": "0"}, "A", false, map[string]string{"lockd_try": ""}},
		{map[string]string{"lockd_slot": "A", "lockd_try_left": "0"}, "A", false, nil},
		// Garbage boots the committed slot, or A, and never loops.
		{map[string]string{"lockd_slot": "A", "lockd_try": "C", "lockd_try_left": "3"}, "A", false, map[string]string{"lockd_try": ""}},
		{map[string]string{"lockd_slot": "A", "lockd_try": "B", "lockd_try_left": "abc"}, "A", false, map[string]string{"lockd_try": ""}},
		{map[string]string{"lockd_slot": "A", "lockd_try": "B", "lockd_try_left": "10"}, "A", false, map[string]string{"lockd_try": ""}},
		{map[string]string{"lockd_slot": "A", "lockd_try": "B", "lockd_try_left": "-1"}, "A", false, map[string]string{"lockd_try": ""}},
		{map[string]string{"lockd_slot": "garbage"}, "A", false, nil},
		{map[string]string{"lockd_slot": "b"}, "A", false, nil},
		{map[string]string{"lockd_slot": "B", "lockd_try": "b", "lockd_try_left": "2"}, "B", false, map[string]string{"lockd_try": ""}},
	} {
		slot, trial, save := bootsim.Rule(tc.vars)
		if slot != tc.slot || trial != tc.trial || !cmp.Equal(save, tc.save) {
			t.Errorf("Rule(%v) = %s %v %v; want %s %v %v", tc.vars, slot, trial, save, tc.slot, tc.trial, tc.save)
		}
	}
}

// TestBootCycle: the simulated machine counts a trial down through its
// environment file, which fw_printenv reads too, and falls back after
// three boots; uboot.StateOf then reports the trial spent.
func TestBootCycle(t *testing.T) {
	m, err := bootsim.Create(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	bl, err := m.Bootloader(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := bl.Arm(ctx, updater.SlotB, 3); err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := 0; i < 5; i++ {
		b, err := m.Boot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(b.Slot)+map[bool]string{true: "t", false: ""}[b.Trial])
		if b.Trial != strings.Contains(b.Cmdline, "lockd.trial=1") || !strings.Contains(b.Cmdline, "lockd.slot="+string(b.Slot)) {
			t.Fatalf("cmdline %q for %+v", b.Cmdline, b)
		}
	}
	if want := []string{"Bt", "Bt", "Bt", "A", "A"}; !cmp.Equal(got, want) {
		t.Fatalf("boots %v, want %v", got, want)
	}
	st, err := bl.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Committed != updater.SlotA || st.Trial != "" || !st.Spent {
		t.Fatalf("state after fallback %+v", st)
	}
	fwPrintenv := testtool.Need(t, "fw_printenv", "libubootenv-tool")
	out, err := exec.Command(fwPrintenv, "-c", m.FwEnvConfig(), "-f", filepath.Join(t.TempDir(), "none")).Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "bootcmd=run lockd_boot\nlockd_slot=A\nlockd_try_left=0\n"; string(out) != want {
		t.Fatalf("fw_printenv:\n%s\nwant\n%s", out, want)
	}
	if err := bl.Disarm(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := bl.State(ctx); st.Spent || st.Trial != "" {
		t.Fatalf("after Disarm %+v", st)
	}
}

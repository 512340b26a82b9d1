package tryboot_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/tryboot"
	"lockd.dev/lockd/updater/ubootenv"
	"lockd.dev/lockd/updater/ubootenv/ubootenvtest"
)

// rig is autoboot.txt and a tryboot flag in a temporary directory.
type rig struct {
	dir, path, flag string
}

func newRig(t *testing.T, autoboot string) rig {
	t.Helper()
	dir := t.TempDir()
	r := rig{dir: dir, path: filepath.Join(dir, "autoboot.txt"), flag: filepath.Join(dir, "tryboot")}
	r.write(t, autoboot)
	return r
}

func (r rig) write(t *testing.T, autoboot string) {
	t.Helper()
	if err := os.WriteFile(r.path, []byte(autoboot), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (r rig) read(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(r.path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// open is a Bootloader on the rig's files; st nil is the real storage.
func (r rig) open(t *testing.T, st ubootenv.Storage) *tryboot.Bootloader {
	t.Helper()
	b, err := tryboot.New(tryboot.Config{Path: r.path, TrybootFlag: r.flag, Storage: st})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (r rig) state(t *testing.T) updater.BootState {
	t.Helper()
	s, err := r.open(t, nil).State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// leftovers lists the files beside autoboot.txt other than it and the flag.
func (r rig) leftovers(t *testing.T) []string {
	t.Helper()
	es, err := os.ReadDir(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		if n := e.Name(); n != "autoboot.txt" && n != "tryboot" {
			names = append(names, n)
		}
	}
	return names
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  tryboot.Config
		err  string
	}{
		{"defaults", tryboot.Config{Path: "autoboot.txt"}, ""},
		{"GPT partitions", tryboot.Config{Path: "a", Partitions: map[updater.Slot]int{"A": 62, "B": 63}}, ""},
		{"no path", tryboot.Config{}, "no autoboot.txt path"},
		{"shared partition", tryboot.Config{Path: "a", Partitions: map[updater.Slot]int{"A": 2, "B": 2}}, "share partition 2"},
		{"partition 0", tryboot.Config{Path: "a", Partitions: map[updater.Slot]int{"A": 0, "B": 2}}, "partition 0 of slot A is not in 1..63"},
		{"partition 64", tryboot.Config{Path: "a", Partitions: map[updater.Slot]int{"A": 2, "B": 64}}, "partition 64 of slot B"},
		{"one slot", tryboot.Config{Path: "a", Partitions: map[updater.Slot]int{"A": 2}}, "must name both slots"},
		{"not a slot", tryboot.Config{Path: "a", Partitions: map[updater.Slot]int{"A": 2, "B": 3, "C": 4}}, `names "C"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tryboot.New(tc.cfg)
			if tc.err == "" {
				if err != nil || b.RebootParam() != "0 tryboot" {
					t.Fatalf("New = %v; RebootParam %q", err, b.RebootParam())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "tryboot: ") {
				t.Fatalf("New = %v; want an error containing %q", err, tc.err)
			}
		})
	}
}

// TestRoundTrips runs Arm, Commit and Disarm in turn and checks the whole
// file after each: only the values lockd manages change, every other byte
// stays.
func TestRoundTrips(t *testing.T) {
	ctx := context.Background()
	arm := func(s updater.Slot) func(*tryboot.Bootloader) error {
		return func(b *tryboot.Bootloader) error { return b.Arm(ctx, s, 3) }
	}
	commit := func(s updater.Slot) func(*tryboot.Bootloader) error {
		return func(b *tryboot.Bootloader) error { return b.Commit(ctx, s) }
	}
	disarm := func(b *tryboot.Bootloader) error { return b.Disarm(ctx) }
	type step struct {
		op   func(*tryboot.Bootloader) error
		want string
		c, t updater.Slot
	}
	const head = "# A/B boot; lockd edits boot_partition only\n[all]\ntryboot_a_b=1\nboot_partition = 2\nfoo=bar\n\n[none]\nboot_partition=9\n[all]\n[tryboot]\n"
	for _, tc := range []struct {
		name  string
		start string
		steps []step
	}{
		{"full cycle", head + "boot_partition=2\n", []step{
			{arm("B"), head + "boot_partition=3\n", "A", "B"},
			{arm("B"), head + "boot_partition=3\n", "A", "B"},
			{commit("B"), strings.Replace(head, "= 2", "= 3", 1) + "boot_partition=3\n", "B", ""},
			{arm("A"), strings.Replace(head, "= 2", "= 3", 1) + "boot_partition=2\n", "B", "A"},
			{disarm, strings.Replace(head, "= 2", "= 3", 1) + "boot_partition=3\n", "B", ""},
			{disarm, strings.Replace(head, "= 2", "= 3", 1) + "boot_partition=3\n", "B", ""},
		}},
		{"documentation example, rolled back", docs, []step{
			{disarm, "[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\nboot_partition=2\n", "A", ""},
		}},
		{"bare file gains tryboot_a_b and [tryboot]", "boot_partition=2", []step{
			{arm("B"), "boot_partition=2\ntryboot_a_b=1\n[tryboot]\nboot_partition=3\n", "A", "B"},
			{commit("B"), "boot_partition=3\ntryboot_a_b=1\n[tryboot]\nboot_partition=3\n", "B", ""},
		}},
		{"tryboot_a_b=0 becomes 1", "[all]\ntryboot_a_b=0\nboot_partition=3\n[tryboot]\nboot_partition=3\n", []step{
			{arm("A"), "[all]\ntryboot_a_b=1\nboot_partition=3\n[tryboot]\nboot_partition=2\n", "B", "A"},
		}},
		{"[tryboot] tryboot_a_b=0 becomes 1", "[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\ntryboot_a_b=0\n", []step{
			{arm("B"), "[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\ntryboot_a_b=1\nboot_partition=3\n", "A", "B"},
		}},
		{"CRLF stays CRLF", "[all]\r\nboot_partition=2\r\n", []step{
			{arm("B"), "[all]\r\nboot_partition=2\r\ntryboot_a_b=1\r\n[tryboot]\r\nboot_partition=3\r\n", "A", "B"},
		}},
		{"a file ending in [none] gets [all] before [tryboot]", "[all]\nboot_partition=2\ntryboot_a_b=1\n[none]\nx=1\n", []step{
			{arm("B"), "[all]\nboot_partition=2\ntryboot_a_b=1\n[none]\nx=1\n[all]\n[tryboot]\nboot_partition=3\n", "A", "B"},
			{disarm, "[all]\nboot_partition=2\ntryboot_a_b=1\n[none]\nx=1\n[all]\n[tryboot]\nboot_partition=2\n", "A", ""},
		}},
		{"[tryboot] after [none] is off, so a new [tryboot] follows [all]", "[all]\nboot_partition=2\n[none]\n[tryboot]\nboot_partition=2\n", []step{
			{arm("B"), "[all]\nboot_partition=2\ntryboot_a_b=1\n[none]\n[tryboot]\nboot_partition=2\n[all]\n[tryboot]\nboot_partition=3\n", "A", "B"},
		}},
		{"[tryboot] first, [all] last", "[tryboot]\nboot_partition=3\n[all]\ntryboot_a_b=1\nboot_partition=2\n", []step{
			{arm("B"), "[tryboot]\nboot_partition=3\n[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\nboot_partition=3\n", "A", "B"},
			{commit("B"), "[tryboot]\nboot_partition=3\n[all]\ntryboot_a_b=1\nboot_partition=3\n[tryboot]\nboot_partition=3\n", "B", ""},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.start)
			for i, s := range tc.steps {
				if err := s.op(r.open(t, nil)); err != nil {
					t.Fatalf("step %d: %v", i+1, err)
				}
				if diff := cmp.Diff(s.want, r.read(t)); diff != "" {
					t.Fatalf("step %d: autoboot.txt (-want +got):\n%s", i+1, diff)
				}
				want := updater.BootState{Committed: s.c, Trial: s.t}
				if s.t != "" {
					want.TriesLeft, want.Spent = 1, true // no flag file: not a trial boot
				}
				if diff := cmp.Diff(want, r.state(t)); diff != "" {
					t.Fatalf("step %d: State (-want +got):\n%s", i+1, diff)
				}
				if l := r.leftovers(t); len(l) != 0 {
					t.Fatalf("step %d: left %q behind", i+1, l)
				}
			}
		})
	}
}

// TestNoChangeNoWrite: an operation that changes nothing writes nothing.
func TestNoChangeNoWrite(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, docs)
	st := &ubootenvtest.Storage{}
	b := r.open(t, st)
	for _, err := range []error{b.Arm(ctx, "B", 1), b.Commit(ctx, "A") /* writes */, b.Disarm(ctx), b.Commit(ctx, "A")} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(st.Ops) != 6 {
		t.Fatalf("storage operations %q, want those of the one Commit that changed something", st.Ops)
	}
}

func TestRefusals(t *testing.T) {
	ctx := context.Background()
	big := "[all]\nboot_partition=2\n#" + strings.Repeat("x", 480) + "\n"
	for _, tc := range []struct {
		name, start string
		op          func(*tryboot.Bootloader) error
		err         string
		invalid     bool
	}{
		{"arm the committed slot", docs, func(b *tryboot.Bootloader) error { return b.Arm(ctx, "A", 1) }, "tryboot: arm A: A is the committed slot", false},
		{"arm with no tries", docs, func(b *tryboot.Bootloader) error { return b.Arm(ctx, "B", 0) }, "need at least 1", false},
		{"arm no slot", docs, func(b *tryboot.Bootloader) error { return b.Arm(ctx, "", 1) }, `arm "": not a slot`, false},
		{"commit no slot", docs, func(b *tryboot.Bootloader) error { return b.Commit(ctx, "C") }, `commit "C": not a slot`, false},
		{"commit over an unknown partition", "[all]\nboot_partition=5\n", func(b *tryboot.Bootloader) error { return b.Commit(ctx, "A") }, "[all] boot_partition=5 is neither slot", true},
		{"disarm without [all] boot_partition", "[tryboot]\nboot_partition=2\n", func(b *tryboot.Bootloader) error { return b.Disarm(ctx) }, "[all] has no boot_partition", true},
		{"arm past 512 bytes", big, func(b *tryboot.Bootloader) error { return b.Arm(ctx, "B", 1) }, "the firmware reads only the first 512", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.start)
			err := tc.op(r.open(t, nil))
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "tryboot: ") || errors.Is(err, tryboot.ErrInvalid) != tc.invalid {
				t.Fatalf("got %v; want an error containing %q (ErrInvalid %v)", err, tc.err, tc.invalid)
			}
			if got := r.read(t); got != tc.start {
				t.Fatalf("autoboot.txt changed to %q", got)
			}
		})
	}
}

func TestMissingAutoboot(t *testing.T) {
	r := newRig(t, docs)
	if err := os.Remove(r.path); err != nil {
		t.Fatal(err)
	}
	_, err := r.open(t, nil).State(context.Background())
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "tryboot: read ") {
		t.Fatalf("State = %v; want a read error wrapping fs.ErrNotExist", err)
	}
	if err := r.open(t, nil).Arm(context.Background(), "B", 1); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Arm = %v; want fs.ErrNotExist", err)
	}
}

func TestCanceled(t *testing.T) {
	r := newRig(t, docs)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.open(t, nil).Commit(ctx, "B"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit = %v; want context.Canceled", err)
	}
	if r.read(t) != docs {
		t.Fatal("a canceled Commit wrote")
	}
}

// TestTrialBoot reads the firmware's flag file: a 32-bit big-endian 0 or 1.
func TestTrialBoot(t *testing.T) {
	for _, tc := range []struct {
		name      string
		flag      []byte // nil: no file
		trialBoot bool
		err       string
	}{
		{"trial boot", []byte{0, 0, 0, 1}, true, ""},
		{"normal boot", []byte{0, 0, 0, 0}, false, ""},
		{"no flag file", nil, false, ""},
		{"empty", []byte{}, false, "0 bytes, not a 32-bit flag"},
		{"short", []byte{0, 0, 1}, false, "3 bytes"},
		{"long", []byte{0, 0, 0, 1, 0}, false, "5 bytes"},
		{"text", []byte("1\n"), false, "2 bytes"},
		{"garbage", []byte("garbage"), false, "not a 32-bit flag"},
		{"little-endian", []byte{1, 0, 0, 0}, false, "flag is 0x1000000, not 0 or 1"},
		{"two", []byte{0, 0, 0, 2}, false, "flag is 0x2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, autoboot := range []string{docs, "[all]\nboot_partition=3\n"} { // armed, not armed
				r := newRig(t, autoboot)
				if tc.flag != nil {
					if err := os.WriteFile(r.flag, tc.flag, 0o444); err != nil {
						t.Fatal(err)
					}
				}
				s, err := r.open(t, nil).State(context.Background())
				if tc.err != "" {
					if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, tryboot.ErrInvalid) || !strings.HasPrefix(err.Error(), "tryboot: "+r.flag+": ") {
						t.Fatalf("State = %+v, %v; want an ErrInvalid containing %q", s, err, tc.err)
					}
					continue
				}
				want := updater.BootState{Committed: "B", TrialBoot: tc.trialBoot}
				if autoboot == docs {
					want = updater.BootState{Committed: "A", Trial: "B", TriesLeft: 1, Spent: !tc.trialBoot, TrialBoot: tc.trialBoot}
				}
				if err != nil || s != want {
					t.Fatalf("State = %+v, %v; want %+v", s, err, want)
				}
			}
		})
	}
}

package ubootenv_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lockd.dev/lockd/internal/testtool"
	"lockd.dev/lockd/updater/ubootenv"
)

// These tests hold lockd's environment code to Debian's libubootenv-tool
// (fw_printenv/fw_setenv 0.3.2) and u-boot-tools' mkenvimage, in both
// directions, single and redundant.

// fw runs the reference tools.
type fw struct {
	printenv, setenv, mkenvimage string
	noDefault                    string // a default env file that does not exist
}

func newFW(t *testing.T) fw {
	return fw{
		printenv:   testtool.Need(t, "fw_printenv", "libubootenv-tool"),
		setenv:     testtool.Need(t, "fw_setenv", "libubootenv-tool"),
		mkenvimage: testtool.Need(t, "mkenvimage", "u-boot-tools"),
		// Without -f, a tool that finds no valid env silently uses
		// /etc/u-boot-initial-env if the machine has one.
		noDefault: filepath.Join(t.TempDir(), "no-default-env"),
	}
}

// run runs a tool and returns its stdout, failing the test unless it exits 0.
func run(t *testing.T, stdin []byte, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %q: %v\nstderr: %s", name, args, err, stderr.String())
	}
	return stdout.String()
}

// print is fw_printenv -c config [names...].
func (f fw) print(t *testing.T, config string, names ...string) string {
	t.Helper()
	return run(t, nil, f.printenv, append([]string{"-c", config, "-f", f.noDefault}, names...)...)
}

// set is fw_setenv -c config -s script: "name=value" lines, "name=" deletes.
func (f fw) set(t *testing.T, config string, vars map[string]string) {
	t.Helper()
	var script strings.Builder
	for _, n := range slices.Sorted(maps.Keys(vars)) {
		fmt.Fprintf(&script, "%s=%s\n", n, vars[n])
	}
	path := filepath.Join(t.TempDir(), "script")
	writeFile(t, path, []byte(script.String()))
	run(t, nil, f.setenv, "-c", config, "-f", f.noDefault, "-s", path)
}

// mkenv is mkenvimage: an image of vars (in the order given) padded with pad.
func (f fw) mkenv(t *testing.T, redundant bool, pad byte, vars ...string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "env.img")
	args := []string{"-s", fmt.Sprint(envSize), "-p", fmt.Sprint(pad), "-o", out}
	if redundant {
		args = append(args, "-r")
	}
	run(t, []byte(strings.Join(vars, "\n")+"\n"), f.mkenvimage, append(args, "-")...)
	return readFile(t, out)
}

// lines renders a map as fw_printenv prints it.
func lines(vars map[string]string) string {
	var b strings.Builder
	for _, n := range slices.Sorted(maps.Keys(vars)) {
		fmt.Fprintf(&b, "%s=%s\n", n, vars[n])
	}
	return b.String()
}

// apply applies set/delete semantics to a model of the environment.
func apply(model, set map[string]string) {
	for n, v := range set {
		if v == "" {
			delete(model, n)
		} else {
			model[n] = v
		}
	}
}

// tricky are variables that exercise the format: spaces, '=' and U-Boot
// syntax in values, non-ASCII, tabs, a long value, names that sort oddly.
var tricky = map[string]string{
	"bootcmd":        "if test -n ${lockd_try}; then run try; else run boot; fi",
	"bootargs":       "console=ttyS0,115200 root=/dev/mmcblk0p2 rootwait lockd.slot=A",
	"lockd_slot":     "A",
	"eq":             "a=b=c",
	"utf8":           "Türschloss ✓",
	"tab":            "a\tb",
	"Upper":          "sorts before lower",
	"_under":         "x",
	"long":           strings.Repeat("0123456789", 100),
	"semicolon;name": "odd but legal",
}

// copies returns setups for a single and a redundant environment, each
// file empty (no valid env yet).
func copies(t *testing.T) map[string]setup {
	return map[string]setup{
		"single":    newSetup(t, []byte{}),
		"redundant": newSetup(t, []byte{}, []byte{}),
	}
}

func TestFwPrintenvReadsWhatLockdWrites(t *testing.T) {
	f := newFW(t)
	ctx := context.Background()
	for name, s := range copies(t) {
		t.Run(name, func(t *testing.T) {
			e := s.open(t)
			model := maps.Clone(tricky)
			if err := e.WriteAll(ctx, model); err != nil {
				t.Fatal(err)
			}
			for i, set := range []map[string]string{
				{"lockd_try": "B", "lockd_try_left": "3"},
				{"lockd_try_left": "2"},
				{"lockd_slot": "B", "lockd_try": "", "lockd_try_left": ""},
				{"long": "", "eq": "", "new": "value with spaces "},
				{"utf8": "", "tab": "", "Upper": "", "_under": "", "semicolon;name": "", "bootargs": "", "bootcmd": "", "lockd_slot": "", "new": ""},
			} {
				if err := e.Update(ctx, set); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				apply(model, set)
				want := lines(model)
				if got := f.print(t, s.config); got != want {
					t.Fatalf("step %d: fw_printenv:\n%s\nwant\n%s", i, got, want)
				}
				if got := printed(t, e); got != want {
					t.Fatalf("step %d: Print:\n%s\nwant\n%s", i, got, want)
				}
				names := []string{"lockd_slot", "missing", "lockd_try", "bootcmd"}
				if got, want := printed(t, e, names...), f.print(t, s.config, names...); got != want {
					t.Fatalf("step %d: Print(%q) = %q, fw_printenv %q", i, names, got, want)
				}
			}
		})
	}
}

func TestLockdReadsWhatFwSetenvWrites(t *testing.T) {
	f := newFW(t)
	ctx := context.Background()
	for _, redundant := range []bool{false, true} {
		t.Run(fmt.Sprint("redundant=", redundant), func(t *testing.T) {
			img := f.mkenv(t, redundant, 0xff, "bootdelay=2", "lockd_slot=A")
			s := newSetup(t, img)
			if redundant {
				s = newSetup(t, img, img)
			}
			e := s.open(t)
			model := map[string]string{"bootdelay": "2", "lockd_slot": "A"}
			for i, set := range []map[string]string{
				tricky,
				{"lockd_try": "B", "lockd_try_left": "3"},
				{"lockd_try_left": "2", "eq": ""},
				{"lockd_slot": "B", "lockd_try": "", "lockd_try_left": "", "long": ""},
			} {
				f.set(t, s.config, set)
				apply(model, set)
				got, err := e.Read(ctx)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if diff := cmp.Diff(model, got); diff != "" {
					t.Fatalf("step %d: Read (-want +got):\n%s", i, diff)
				}
				if got, want := printed(t, e), f.print(t, s.config); got != want {
					t.Fatalf("step %d: Print:\n%s\nfw_printenv:\n%s", i, got, want)
				}
			}
		})
	}
}

// TestSameBytesAsTheTools compares whole files wherever the tools' output
// is defined. mkenvimage pads with a chosen byte; lockd pads with 0x00 as
// U-Boot's saveenv does, so a zero-padded mkenvimage image of sorted
// variables is exactly what lockd writes. fw_setenv leaves the padding as
// its heap held it: from a zero-padded image, while the data only grows,
// that is zeros too, and the files must match byte for byte. When the data
// shrinks, fw_setenv leaves the old tail behind; the header and data must
// still match, up to and including the end marker.
func TestSameBytesAsTheTools(t *testing.T) {
	f := newFW(t)
	ctx := context.Background()
	initial := []string{"bootdelay=2", "bootcmd=run lockd_boot", "lockd_slot=A"}
	slices.Sort(initial)
	for _, redundant := range []bool{false, true} {
		t.Run(fmt.Sprint("redundant=", redundant), func(t *testing.T) {
			img := f.mkenv(t, redundant, 0, initial...)
			// lockd's own writer makes the same image (copy 2 of a fresh
			// redundant pair gets flags 1, as mkenvimage -r writes).
			fresh := newSetup(t, []byte{})
			target := 0
			if redundant {
				fresh, target = newSetup(t, []byte{}, []byte{}), 1
			}
			if err := fresh.open(t).WriteAll(ctx, map[string]string{"bootdelay": "2", "bootcmd": "run lockd_boot", "lockd_slot": "A"}); err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, fresh.files[target]); !bytes.Equal(got, img) {
				t.Errorf("WriteAll differs from mkenvimage -p 0:\n% x\n% x", got[:48], img[:48])
			}

			lockd, tool := newSetup(t, img), newSetup(t, img)
			if redundant {
				lockd, tool = newSetup(t, img, img), newSetup(t, img, img)
			}
			e := lockd.open(t)
			growing := []map[string]string{
				{"lockd_try": "B", "lockd_try_left": "3"},
				{"lockd_try_left": "2", "bootargs": "console=ttyAMA0 lockd.slot=B"},
				{"lockd_try_left": "1", "zz": strings.Repeat("z", 300)},
				{"lockd_slot": "B", "zz": strings.Repeat("y", 400)},
			}
			for i, set := range growing {
				if err := e.Update(ctx, set); err != nil {
					t.Fatal(err)
				}
				f.set(t, tool.config, set)
				for c := range lockd.files {
					if a, b := readFile(t, lockd.files[c]), readFile(t, tool.files[c]); !bytes.Equal(a, b) {
						t.Fatalf("step %d, copy %d: lockd and fw_setenv wrote different bytes:\n% x\n% x", i, c+1, a[:64], b[:64])
					}
				}
			}
			shrink := map[string]string{"zz": "", "bootargs": "", "lockd_try": "", "lockd_try_left": ""}
			if err := e.Update(ctx, shrink); err != nil {
				t.Fatal(err)
			}
			f.set(t, tool.config, shrink)
			h := 4
			if redundant {
				h = 5
			}
			for c := range lockd.files {
				a, b := readFile(t, lockd.files[c]), readFile(t, tool.files[c])
				end := bytes.Index(a[h:], []byte{0, 0}) + h + 2
				if !bytes.Equal(a[4:end], b[4:end]) {
					t.Errorf("after shrinking, copy %d: header and data differ:\n%q\n%q", c+1, a[4:end], b[4:end])
				}
				if bytes.ContainsFunc(a[end:], func(r rune) bool { return r != 0 }) {
					t.Errorf("copy %d: lockd's padding is not all zero", c+1)
				}
			}
		})
	}
}

func TestRedundantAlternatingWriters(t *testing.T) {
	f := newFW(t)
	ctx := context.Background()
	img := f.mkenv(t, true, 0xff, "bootdelay=2", "n=0") // both copies flags 1
	s := newSetup(t, img, img)
	e := s.open(t)
	// 300 writes wrap the flags byte (0xff -> 0) once, from both sides.
	prev := s.snapshot(t)
	cur, flag := 0, byte(1)
	for i := 1; i <= 300; i++ {
		by := "lockd"
		if i%2 == 0 {
			by = "fw_setenv"
			f.set(t, s.config, map[string]string{"n": fmt.Sprint(i), "by": by})
		} else if err := e.Update(ctx, map[string]string{"n": fmt.Sprint(i), "by": by}); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		now := s.snapshot(t)
		written := 1 - cur
		flag++
		if !bytes.Equal(now[cur], prev[cur]) {
			t.Fatalf("write %d by %s changed copy %d, the one in use", i, by, cur+1)
		}
		if now[written][4] != flag {
			t.Fatalf("write %d by %s: copy %d has flags %#x, want %#x", i, by, written+1, now[written][4], flag)
		}
		want := fmt.Sprintf("n=%d\nby=%s\n", i, by)
		if got := f.print(t, s.config, "n", "by"); got != want {
			t.Fatalf("write %d by %s: fw_printenv says %q, want %q", i, by, got, want)
		}
		if got := printed(t, e, "n", "by"); got != want {
			t.Fatalf("write %d by %s: lockd says %q, want %q", i, by, got, want)
		}
		prev, cur = now, written
	}
}

// TestToolsRejectWhatLockdRejects shows that an environment lockd calls
// invalid is invalid to fw_printenv too.
func TestToolsRejectWhatLockdRejects(t *testing.T) {
	f := newFW(t)
	b := block(t, envSize, false, 0, "a=1")
	b[8] ^= 1
	s := newSetup(t, b)
	cmd := exec.Command(f.printenv, "-c", s.config, "-f", f.noDefault)
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("fw_printenv accepted a bad CRC: %s", out)
	}
	if _, err := s.open(t).Read(context.Background()); !errors.Is(err, ubootenv.ErrNoValidEnv) {
		t.Errorf("lockd read a bad CRC: %v", err)
	}
}

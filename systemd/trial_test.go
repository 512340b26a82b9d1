package systemd_test

import (
	"fmt"
	"io/fs"

	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"lockd.dev/lockd/internal/testtool"
)

// The trial-boot seam: lockd-trial-generator turns lockd's failures into
// reboots on a trial boot (lockd.trial=1) and only then.

const (
	generator = "lockd-trial-generator"
	// trialDropIn is where the generator writes, relative to its first
	// (normal) output directory.
	trialDropIn = "lockd.service.d/50-trial.conf"
)

// generate runs the generator as systemd does, with three empty output
// directories under dir, on a kernel command line read from a file
// (LOCKD_CMDLINE). It returns the normal directory, every file written in
// any of the three (relative to dir); it fails the test if the generator
// fails or prints anything.
func generate(t *testing.T, dir, cmdline string) (normal string, files []string) {
	t.Helper()
	return generateTryboot(t, dir, cmdline, nil)
}

// generateTryboot is generate on a machine whose Pi firmware tryboot flag
// file holds flag (nil: no such file, as on any machine but a Pi).
func generateTryboot(t *testing.T, dir, cmdline string, flag []byte) (normal string, files []string) {
	t.Helper()
	flagFile := filepath.Join(t.TempDir(), "tryboot")
	if flag != nil {
		if err := os.WriteFile(flagFile, flag, 0o444); err != nil {
			t.Fatal(err)
		}
	}
	self, err := filepath.Abs(generator)
	if err != nil {
		t.Fatal(err)
	}
	cmdlineFile := filepath.Join(t.TempDir(), "cmdline")
	if err := os.WriteFile(cmdlineFile, []byte(cmdline), 0o644); err != nil {
		t.Fatal(err)
	}
	var outs []string
	for _, d := range []string{"normal", "early", "late"} {
		outs = append(outs, filepath.Join(dir, d))
		if err := os.Mkdir(outs[len(outs)-1], 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Run the file itself, so its #! line and mode are tested too. The
	// working directory holds a file named like a trial parameter, which
	// a glob in the command line must not reach.
	cwd := t.TempDir()
	if err := os.WriteFile(filepath.Join(cwd, "lockd.trial=1"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, outs...)
	cmd.Dir = cwd
	cmd.Env = append(os.Environ(), "LOCKD_CMDLINE="+cmdlineFile, "LOCKD_TRYBOOT_FLAG="+flagFile)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("%s (cmdline %q): %v, output %q", generator, cmdline, err, out)
	}
	walkErr := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
		}
		return nil
	})
	if walkErr != nil {
		t.Fatal(walkErr)
	}
	return outs[0], files
}

func TestTrialGenerator(t *testing.T) {
	for _, tc := range []struct {
		name, cmdline string
		trial         bool
	}{
		{"trial", "console=ttyAMA0,115200 root=/dev/mmcblk0p3 rootwait lockd.slot=B lockd.trial=1\n", true},
		{"trial first, no newline", "lockd.trial=1 lockd.slot=A", true},
		{"trial after a tab", "quiet\tlockd.trial=1\n", true},
		{"committed", "console=ttyAMA0,115200 root=/dev/mmcblk0p2 rootwait lockd.slot=A\n", false},
		{"empty", "", false},
		{"trial=0", "lockd.slot=B lockd.trial=0\n", false},
		{"trial=10", "lockd.slot=B lockd.trial=10\n", false},
		{"trial=1x", "lockd.trial=1x\n", false},
		{"prefixed key", "xlockd.trial=1\n", false},
		{"longer key", "lockd.trial.x=1 lockd.trialx=1\n", false},
		{"inside another value", `foo="lockd.trial=1"` + "\n", false},
		{"no value", "lockd.trial\n", false},
		{"glob", "lockd.trial=?\n", false},
		{"last wins: off", "lockd.trial=1 lockd.trial=0\n", false},
		{"last wins: on", "lockd.trial=0 lockd.trial=1\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			normal, files := generate(t, t.TempDir(), tc.cmdline)
			checkGenerated(t, fmt.Sprintf("cmdline %q", tc.cmdline), normal, files, tc.trial)
		})
	}
}

// TestTrialGeneratorTryboot: the Pi firmware's tryboot leaves the command
// line alone and sets chosen/bootloader/tryboot (a big-endian 32-bit 1);
// that boot is a trial too, and only a value of exactly 1 makes it one.
func TestTrialGeneratorTryboot(t *testing.T) {
	committed := "console=serial0,115200 root=/dev/mmcblk0p3 rootwait\n"
	for _, tc := range []struct {
		name  string
		flag  []byte
		trial bool
	}{
		{"tryboot", []byte{0, 0, 0, 1}, true},
		{"normal boot", []byte{0, 0, 0, 0}, false},
		{"no flag file", nil, false},
		{"little-endian 1", []byte{1, 0, 0, 0}, false},
		{"short", []byte{1}, false},
		{"long", []byte{0, 0, 0, 1, 0}, false},
		{"empty", []byte{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			normal, files := generateTryboot(t, t.TempDir(), committed, tc.flag)
			checkGenerated(t, fmt.Sprintf("tryboot flag %x", tc.flag), normal, files, tc.trial)
		})
	}
}

// TestTrialGeneratorErrors: without an output directory or a readable
// command line the generator fails, so systemd logs it, and writes nothing.
func TestTrialGeneratorErrors(t *testing.T) {
	cmd := exec.Command("./" + generator)
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("%s with no arguments: no error (output %q)", generator, out)
	}

	dir := t.TempDir()
	cmd = exec.Command("./"+generator, dir, dir, dir)
	cmd.Env = append(os.Environ(), "LOCKD_CMDLINE="+filepath.Join(dir, "missing"))
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("%s with an unreadable command line: no error (output %q)", generator, out)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%s with an unreadable command line wrote %v", generator, entries)
	}
}

// checkGenerated checks that the generator wrote the trial drop-in, and
// nothing else, exactly when trial.
func checkGenerated(t *testing.T, what, normal string, files []string, trial bool) {
	t.Helper()
	want := []string(nil)
	if trial {
		want = []string{filepath.Join("normal", trialDropIn)}
	}
	if !slices.Equal(files, want) {
		t.Fatalf("%s: %s wrote %q, want %q", what, generator, files, want)
	}
	if trial {
		checkTrialDropIn(t, filepath.Join(normal, trialDropIn))
	}
}

// checkTrialDropIn checks that the drop-in reboots on every way lockd can
// fail on a trial.
func checkTrialDropIn(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	unit, service := settings(t, path, b, "Unit"), settings(t, path, b, "Service")
	last := func(m map[string][]string, k string) string {
		if v := m[k]; len(v) > 0 {
			return v[len(v)-1]
		}
		return ""
	}
	for k, why := range map[string]string{
		"FailureAction":    "any failure: crash, non-zero exit, watchdog, start timeout",
		"StartLimitAction": "a crash loop",
		"JobTimeoutAction": "a start job that never finishes",
	} {
		if got := last(unit, k); got != "reboot" {
			t.Errorf("%s: [Unit] %s=%q, want reboot (%s)", trialDropIn, k, got, why)
		}
	}
	// The shipped unit disables the start limit (StartLimitIntervalSec=0);
	// the drop-in must turn it back on for StartLimitAction= to fire.
	if v := last(unit, "StartLimitIntervalSec"); v == "" || v == "0" || v == "infinity" {
		t.Errorf("%s: StartLimitIntervalSec=%q: no start limit, so StartLimitAction= never fires", trialDropIn, v)
	}
	if v := last(unit, "StartLimitBurst"); v == "" || v == "0" {
		t.Errorf("%s: StartLimitBurst=%q", trialDropIn, v)
	}
	for _, s := range []struct {
		m       map[string][]string
		section string
		key     string
	}{{unit, "Unit", "JobTimeoutSec"}, {service, "Service", "TimeoutStartSec"}} {
		if v := last(s.m, s.key); v == "" || v == "0" || v == "infinity" {
			t.Errorf("%s: [%s] %s=%q: a lockd that never gets ready would never reboot", trialDropIn, s.section, s.key, v)
		}
	}
}

// TestCommittedBootNeverReboots: without the drop-in, lockd is restarted
// for ever and nothing in the shipped unit reboots.
func TestCommittedBootNeverReboots(t *testing.T) {
	b, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	unit, service := settings(t, unitFile, b, "Unit"), serviceSettings(t, b)
	if got := unit["StartLimitIntervalSec"]; !slices.Equal(got, []string{"0"}) {
		t.Errorf("%s: StartLimitIntervalSec=%q, want exactly 0 (restart for ever)", unitFile, got)
	}
	if got := service["Restart"]; !slices.Equal(got, []string{"on-failure"}) {
		t.Errorf("%s: Restart=%q, want exactly on-failure", unitFile, got)
	}
	for _, m := range []map[string][]string{unit, service} {
		for k, v := range m {
			if strings.HasSuffix(k, "Action") && !slices.Equal(v, []string{"none"}) {
				t.Errorf("%s: %s=%q: on a committed boot lockd must never reboot or power off the lock", unitFile, k, v)
			}
		}
	}
}

// TestVerifyTrial runs `systemd-analyze verify` on the unit with the
// drop-in the generator writes on a trial boot.
func TestVerifyTrial(t *testing.T) {
	analyze := testtool.Need(t, "systemd-analyze", "systemd")
	normal, _ := generate(t, t.TempDir(), "root=/dev/mmcblk0p3 lockd.slot=B lockd.trial=1\n")
	path := writeVerifiableUnit(t, normal)

	// First prove that verify reads drop-ins from there: a canary with an
	// unknown key must be reported. Otherwise a clean result below would
	// say nothing about the trial drop-in.
	canary := filepath.Join(normal, "lockd.service.d", "99-canary.conf")
	if err := os.WriteFile(canary, []byte("[Unit]\nLockdCanary=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := run(t, nil, analyze, "verify", "--man=no", path); !strings.Contains(out, "LockdCanary") {
		t.Fatalf("systemd-analyze verify ignores drop-ins in %s; output:\n%s", filepath.Dir(canary), out)
	}
	if err := os.Remove(canary); err != nil {
		t.Fatal(err)
	}

	if out := run(t, nil, analyze, "verify", "--man=no", path); out != "" {
		t.Errorf("systemd-analyze verify %s with %s is not clean:\n%s", unitFile, trialDropIn, out)
	}
}

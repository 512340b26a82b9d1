package ubootenv_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"lockd.dev/lockd/updater/ubootenv"
)

// bootenv runs `lockd bootenv args...`.
func bootenv(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = ubootenv.Main(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func TestBootenvCLI(t *testing.T) {
	s := newSetup(t, block(t, envSize, true, 1, "bootdelay=2", "lockd_slot=A"), block(t, envSize, true, 0))
	cfg := "--fw-env-config=" + s.config
	for _, tc := range []struct {
		args            []string
		code            int
		stdout, stderrs string
	}{
		{[]string{cfg, "print"}, 0, "bootdelay=2\nlockd_slot=A\n", ""},
		{[]string{"--fw-env-config", s.config, "set", "lockd_try=B", "lockd_try_left=3", "bootdelay="}, 0, "", ""},
		{[]string{cfg, "print", "lockd_try", "missing", "lockd_slot"}, 0, "lockd_try=B\nmissing=\nlockd_slot=A\n", ""},
		{[]string{cfg, "print", "-n", "lockd_try_left"}, 0, "3\n", ""},
		{[]string{cfg, "set", "v=a=b c"}, 0, "", ""},
		{[]string{cfg, "print"}, 0, "lockd_slot=A\nlockd_try=B\nlockd_try_left=3\nv=a=b c\n", ""},
		// Refused before anything is written: exit 1.
		{[]string{cfg, "set", "ok=1", "bad=line\nbreak"}, 1, "", "newline"},
		{[]string{cfg, "set", "=x"}, 1, "", "empty name"},
		{[]string{cfg, "set", "big=" + strings.Repeat("x", envSize)}, 1, "", "too large"},
		{[]string{"--fw-env-config", filepath.Join(s.dir, "missing.config"), "print"}, 1, "", "missing.config"},
		// Usage errors: exit 2.
		{nil, 2, "", "missing command"},
		{[]string{cfg, "frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{[]string{cfg, "set"}, 2, "", "no NAME=VALUE"},
		{[]string{cfg, "set", "novalue"}, 2, "", `"novalue" is not NAME=VALUE`},
		{[]string{cfg, "set", "a=1", "a=2"}, 2, "", `"a" given twice`},
		{[]string{"--bogus", "print"}, 2, "", "bogus"},
		{[]string{cfg, "print", "-x"}, 2, "", "-x"},
		{[]string{"-h"}, 0, "usage: lockd bootenv", ""},
	} {
		code, stdout, stderr := bootenv(tc.args...)
		if code != tc.code || !strings.Contains(stdout, tc.stdout) || (tc.stdout == "" && stdout != "") || !strings.Contains(stderr, tc.stderrs) {
			t.Errorf("lockd bootenv %q: exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr containing %q",
				tc.args, code, stdout, stderr, tc.code, tc.stdout, tc.stderrs)
		}
	}
	// What the refused commands would have changed is unchanged.
	if code, stdout, _ := bootenv(cfg, "print"); code != 0 || stdout != "lockd_slot=A\nlockd_try=B\nlockd_try_left=3\nv=a=b c\n" {
		t.Errorf("after refused commands: %q", stdout)
	}
}

func TestBootenvCLINoValidEnv(t *testing.T) {
	s := newSetup(t, bytes.Repeat([]byte{0xff}, envSize))
	snap := s.snapshot(t)
	for _, args := range [][]string{{"print"}, {"set", "a=1"}} {
		code, stdout, stderr := bootenv(append([]string{"--fw-env-config", s.config}, args...)...)
		if code != 1 || stdout != "" || !strings.Contains(stderr, "no valid environment") || !strings.Contains(stderr, s.files[0]) {
			t.Errorf("bootenv %q: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	s.unchanged(t, snap)
}

func TestBootenvCLIPrintsLikeFwPrintenv(t *testing.T) {
	f := newFW(t)
	s := newSetup(t, f.mkenv(t, false, 0xff, "zeta=1", "alpha=2 3", "mid=a=b", ".flags=zeta:sa"))
	for _, names := range [][]string{nil, {"mid", "nope", "zeta"}, {".flags"}} {
		_, got, _ := bootenv(append([]string{"--fw-env-config", s.config, "print"}, names...)...)
		if want := f.print(t, s.config, names...); got != want {
			t.Errorf("print %q: %q, fw_printenv %q", names, got, want)
		}
		_, got, _ = bootenv(append([]string{"--fw-env-config", s.config, "print", "-n"}, names...)...)
		if want := f.print(t, s.config, append([]string{"-n"}, names...)...); got != want {
			t.Errorf("print -n %q: %q, fw_printenv -n %q", names, got, want)
		}
	}
}

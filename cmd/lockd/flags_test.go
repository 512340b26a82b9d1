package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestFlagsHelpAndMistakes: --help is help on stdout (exit status 0) in the
// double-dash spelling of the usage lines; a mistake is said once on
// stderr (exit status 2), without the whole help.
func TestFlagsHelpAndMistakes(t *testing.T) {
	var out, errOut bytes.Buffer
	_, err := parseFlags([]string{"--help"}, &out, &errOut)
	if !errors.As(err, new(helpShown)) || errOut.Len() != 0 {
		t.Fatalf("--help: %v, stderr %q", err, &errOut)
	}
	for _, want := range []string{"usage: lockd [--config FILE]", "  --bus BUS", "  --state-dir DIR", "  --sim", "lockd factory-init"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help lacks %q:\n%s", want, &out)
		}
	}
	if strings.Contains(out.String(), "\n  -b") || strings.Contains(out.String(), "\n  -s") {
		t.Errorf("--help lists single-dash flags:\n%s", &out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--frob"}, "lockd: unknown option --frob\nRun 'lockd --help' for the options.\n"},
		{[]string{"--bus"}, "lockd: this option needs a value: --bus\nRun 'lockd --help' for the options.\n"},
		{[]string{"extra"}, "lockd: unexpected argument \"extra\"\nRun 'lockd --help' for the options.\n"},
	} {
		out.Reset()
		errOut.Reset()
		_, err := parseFlags(tc.args, &out, &errOut)
		var status exitStatus
		if !errors.As(err, &status) || status != 2 {
			t.Errorf("%v: %v, want exit status 2", tc.args, err)
		}
		if errOut.String() != tc.want || out.Len() != 0 {
			t.Errorf("%v: stderr %q stdout %q, want stderr %q", tc.args, &errOut, &out, tc.want)
		}
	}
}

package main

import (
	"bytes"
	"strings"
	"testing"

	"lockd.dev/lockd/mqtt/pin"
)

// TestCommandLine: usage, and pin-digest reading the PIN twice from
// stdin (never from the command line).
func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		stdin string
		code  int
		out   string
	}{
		{[]string{"--help"}, "", 0, "usage: lockd-mqtt"},
		{[]string{"--frob"}, "", 2, "flag provided but not defined"},
		{[]string{"extra"}, "", 2, "unexpected argument"},
		{[]string{"--config", "/nonexistent/mqtt.toml"}, "", 1, "systemd/mqtt.toml"},
		{[]string{"pin-digest"}, "4826\n4826\n", 0, "pin_digest = \"pbkdf2-sha256$"},
		{[]string{"pin-digest"}, "4826\n4827\n", 1, "the two PINs differ"},
		{[]string{"pin-digest"}, "48\n48\n", 1, "4 to 12 digits"},
		{[]string{"pin-digest", "4826"}, "", 2, "reads the PIN from stdin"},
	} {
		var out, errb bytes.Buffer
		code := run(tc.args, strings.NewReader(tc.stdin), &out, &errb)
		if code != tc.code || !strings.Contains(out.String()+errb.String(), tc.out) {
			t.Errorf("lockd-mqtt %v: exit %d, output %q %q; want %d and %q", tc.args, code, out.String(), errb.String(), tc.code, tc.out)
		}
		if code == 0 && tc.args[0] == "pin-digest" {
			line := strings.TrimSpace(out.String())
			d := strings.Trim(strings.TrimPrefix(line, "pin_digest = "), `"`)
			v, err := pin.ParseDigest(d)
			if err != nil || !v.Match("4826") || strings.Contains(line, "4826") {
				t.Errorf("pin-digest printed %q: %v", line, err)
			}
		}
	}
}

package yocto

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// layer is meta-lockd, relative to this package.
const layer = "meta-lockd"

// run runs a command and fails the test with its output if it fails.
func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
	return out
}

// read returns a layer file's contents.
func read(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(layer, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sameSettings reports whether two configuration files hold the same
// lines once comments and blank lines are left out and runs of blanks
// are one space.
func sameSettings(t *testing.T, a, b string) bool {
	t.Helper()
	settings := func(p string) string {
		text, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, l := range strings.Split(string(text), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				lines = append(lines, strings.Join(strings.Fields(l), " "))
			}
		}
		return strings.Join(lines, "\n")
	}
	return settings(a) == settings(b)
}

package yocto

import (
	"os"
	"os/exec"
	"path/filepath"
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

package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// run runs a command and fails the test with its output if it fails.
func run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	return runEnv(t, nil, name, args...)
}

// runEnv is run with extra environment variables.
func runEnv(t testing.TB, env []string, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out.Bytes())
	}
	return out.Bytes()
}

// hasher builds a cache key from named inputs.
type hasher struct{ h hash.Hash }

func newHasher() *hasher { return &hasher{h: sha256.New()} }

func (h *hasher) str(s ...string) *hasher {
	for _, x := range s {
		h.h.Write([]byte(x))
		h.h.Write([]byte{0})
	}
	return h
}

func (h *hasher) file(t testing.TB, path string) *hasher {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h.str(filepath.Base(path))
	if _, err := io.Copy(h.h, f); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *hasher) sum() string {
	return hex.EncodeToString(h.h.Sum(nil))[:16]
}

// writeFile writes data to path, making its directory.
func writeFile(t testing.TB, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// copyFile copies src to dst with mode.
func copyFile(t testing.TB, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dst, b, mode)
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

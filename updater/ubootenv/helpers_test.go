package ubootenv_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lockd.dev/lockd/updater/ubootenv"
)

// envSize is the ENVSIZE of most tests: small enough to fill, big enough
// that libubootenv's heap leftovers stay out of the compared bytes.
const envSize = 0x1000

// block builds one copy the way the U-Boot documentation describes it,
// independently of the package under test: CRC32 (LE) over the data area,
// a flags byte for redundant copies, "name=value\0" strings, a final NUL,
// zero padding.
func block(t *testing.T, size int, redundant bool, flags byte, vars ...string) []byte {
	t.Helper()
	h := 4
	if redundant {
		h = 5
	}
	var data []byte
	for _, v := range vars {
		data = append(append(data, v...), 0)
	}
	data = append(data, 0)
	if len(data) > size-h {
		t.Fatalf("test env of %d bytes does not fit in %d", len(data), size)
	}
	data = append(data, make([]byte, size-h-len(data))...)
	b := binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(data))
	if redundant {
		b = append(b, flags)
	}
	return append(b, data...)
}

// writeFile writes a file, failing the test on error.
func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// readFile reads a file, failing the test on error.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// setup is an environment in a temporary directory.
type setup struct {
	dir, config string
	files       []string // the files holding the copies
}

// newSetup writes a config for copies of envSize at offset 0 of files
// named after copies ("uboot.env", "uboot-redund.env") and fills each file
// with the given content (nil: no file).
func newSetup(t *testing.T, contents ...[]byte) setup {
	t.Helper()
	s := setup{dir: t.TempDir()}
	var cfg strings.Builder
	cfg.WriteString("# test environment\n")
	for i, c := range contents {
		f := filepath.Join(s.dir, []string{"uboot.env", "uboot-redund.env"}[i])
		s.files = append(s.files, f)
		if c != nil {
			writeFile(t, f, c)
		}
		fmt.Fprintf(&cfg, "%s\t0x0\t%#x\n", f, envSize)
	}
	s.config = filepath.Join(s.dir, "fw_env.config")
	writeFile(t, s.config, []byte(cfg.String()))
	return s
}

// open parses the setup's config and opens it without the system lock
// file, so tests never wait on each other.
func (s setup) open(t *testing.T, opts ...ubootenv.Option) *ubootenv.Env {
	t.Helper()
	cfg, err := ubootenv.ParseConfig(s.config)
	if err != nil {
		t.Fatal(err)
	}
	e, err := ubootenv.Open(cfg, append([]ubootenv.Option{ubootenv.WithLockFile(filepath.Join(s.dir, "lock"))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// snapshot returns the bytes of every copy file.
func (s setup) snapshot(t *testing.T) [][]byte {
	t.Helper()
	var out [][]byte
	for _, f := range s.files {
		b, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// restore puts back what snapshot returned.
func (s setup) restore(t *testing.T, snap [][]byte) {
	t.Helper()
	for i, f := range s.files {
		writeFile(t, f, snap[i])
	}
}

// unchanged fails the test if the copies differ from snap.
func (s setup) unchanged(t *testing.T, snap [][]byte) {
	t.Helper()
	for i, b := range s.snapshot(t) {
		if !bytes.Equal(b, snap[i]) {
			t.Errorf("%s changed", s.files[i])
		}
	}
}

// printed returns what Print writes.
func printed(t *testing.T, e *ubootenv.Env, names ...string) string {
	t.Helper()
	var b bytes.Buffer
	if err := e.Print(context.Background(), &b, names...); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

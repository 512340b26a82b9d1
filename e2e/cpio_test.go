package e2e

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// cpioWriter writes an initramfs: the "newc" cpio format the kernel
// unpacks, owned by root whoever runs the rig (no root needed to make
// a device node either).
type cpioWriter struct {
	w   io.Writer
	ino int
}

func (c *cpioWriter) entry(name string, mode uint32, rdev [2]int, data []byte) error {
	c.ino++
	hdr := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		c.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name)+1, 0)
	var b bytes.Buffer
	b.WriteString(hdr)
	b.WriteString(name)
	b.WriteByte(0)
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
	b.Write(data)
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
	_, err := c.w.Write(b.Bytes())
	return err
}

const (
	sIFDIR = 0o040000
	sIFREG = 0o100000
	sIFLNK = 0o120000
	sIFCHR = 0o020000
)

// writeInitramfs packs the tree at dir, plus /dev/console, into a
// gzip-compressed newc cpio at out.
func writeInitramfs(t testing.TB, dir, out string) {
	t.Helper()
	var paths []string
	if err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			paths = append(paths, p)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	c := &cpioWriter{w: zw}
	add := func(name string, mode uint32, rdev [2]int, data []byte) {
		if err := c.entry(name, mode, rdev, data); err != nil {
			t.Fatal(err)
		}
	}
	add("dev", sIFDIR|0o755, [2]int{}, nil)
	add("dev/console", sIFCHR|0o600, [2]int{5, 1}, nil)
	for _, p := range paths {
		rel, _ := filepath.Rel(dir, p)
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		perm := uint32(fi.Mode().Perm())
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				t.Fatal(err)
			}
			add(rel, sIFLNK|0o777, [2]int{}, []byte(target))
		case fi.IsDir():
			if rel != "dev" {
				add(rel, sIFDIR|perm, [2]int{}, nil)
			}
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			add(rel, sIFREG|perm, [2]int{}, data)
		}
	}
	add("TRAILER!!!", 0, [2]int{}, nil)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, out, buf.Bytes(), 0o644)
}

package ubootenv_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lockd.dev/lockd/updater/ubootenv"
)

func TestReadSingle(t *testing.T) {
	s := newSetup(t, block(t, envSize, false, 0, "b=2", "a=1", "c=x=y", "b=3", "noequals", "e="))
	got, err := s.open(t).Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Last duplicate wins, '=' belongs to the value, a string without '='
	// is skipped, an empty value is kept: all as in libubootenv.
	want := map[string]string{"a": "1", "b": "3", "c": "x=y", "e": ""}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Read (-want +got):\n%s", diff)
	}
}

func TestUpdateSingle(t *testing.T) {
	ctx := context.Background()
	s := newSetup(t, block(t, envSize, false, 0, "bootcmd=run x", "lockd_slot=A"))
	e := s.open(t)
	if err := e.Update(ctx, map[string]string{"lockd_try": "B", "lockd_try_left": "3", "bootcmd": ""}); err != nil {
		t.Fatal(err)
	}
	want := block(t, envSize, false, 0, "lockd_slot=A", "lockd_try=B", "lockd_try_left=3")
	if got := readFile(t, s.files[0]); !bytes.Equal(got, want) {
		t.Errorf("file after Update:\n%q\nwant\n%q", got[:64], want[:64])
	}
	if v, ok, err := e.Get(ctx, "lockd_try"); err != nil || !ok || v != "B" {
		t.Errorf("Get(lockd_try) = %q, %v, %v; want B, true, nil", v, ok, err)
	}
	if _, ok, err := e.Get(ctx, "bootcmd"); err != nil || ok {
		t.Errorf("Get(bootcmd) after deleting it: ok %v, err %v", ok, err)
	}
	if _, err := os.Stat(filepath.Join(s.dir, ".uboot.env.lockd-tmp")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left behind: %v", err)
	}
}

func TestUpdateNoChangeWritesNothing(t *testing.T) {
	s := newSetup(t, block(t, envSize, true, 7, "a=1"), block(t, envSize, true, 6, "a=0"))
	snap := s.snapshot(t)
	for _, set := range []map[string]string{{"a": "1"}, {"missing": ""}, {}} {
		if err := s.open(t).Update(context.Background(), set); err != nil {
			t.Fatalf("Update(%v): %v", set, err)
		}
		s.unchanged(t, snap)
	}
}

func TestUpdateRedundant(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name           string
		flags          [2]byte
		valid          [2]bool
		target         int
		wantFlag       byte
		old0, old1, in string
	}{
		{"copy 0 newer", [2]byte{2, 1}, [2]bool{true, true}, 1, 3, "v=0", "v=1", "v=0"},
		{"copy 1 newer", [2]byte{1, 2}, [2]bool{true, true}, 0, 3, "v=0", "v=1", "v=1"},
		{"tie: copy 0", [2]byte{1, 1}, [2]bool{true, true}, 1, 2, "v=0", "v=1", "v=0"},
		{"wrap: 0 beats 0xff", [2]byte{0xff, 0}, [2]bool{true, true}, 0, 1, "v=0", "v=1", "v=1"},
		{"wrap written", [2]byte{0xfe, 0xff}, [2]bool{true, true}, 0, 0, "v=0", "v=1", "v=1"},
		{"newer copy 1 corrupt", [2]byte{1, 9}, [2]bool{true, false}, 1, 2, "v=0", "v=1", "v=0"},
		{"newer copy 0 corrupt", [2]byte{9, 1}, [2]bool{false, true}, 0, 2, "v=0", "v=1", "v=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b0 := block(t, envSize, true, tc.flags[0], tc.old0)
			b1 := block(t, envSize, true, tc.flags[1], tc.old1)
			for i, b := range [][]byte{b0, b1} {
				if !tc.valid[i] {
					b[10] ^= 0x40 // a flipped bit in the data area
				}
			}
			s := newSetup(t, b0, b1)
			e := s.open(t)
			if v, _, err := e.Get(ctx, "v"); err != nil || "v="+v != tc.in {
				t.Fatalf("in use: %q, %v; want %q", v, err, tc.in)
			}
			kept := s.snapshot(t)[1-tc.target]
			if err := e.Update(ctx, map[string]string{"v": "new"}); err != nil {
				t.Fatal(err)
			}
			want := block(t, envSize, true, tc.wantFlag, "v=new")
			after := s.snapshot(t)
			if !bytes.Equal(after[tc.target], want) {
				t.Errorf("copy %d = % x..., want % x...", tc.target, after[tc.target][:12], want[:12])
			}
			if !bytes.Equal(after[1-tc.target], kept) {
				t.Errorf("copy %d, in use, was written", 1-tc.target)
			}
			if v, _, err := e.Get(ctx, "v"); err != nil || v != "new" {
				t.Errorf("after Update: %q, %v", v, err)
			}
		})
	}
}

func TestCorruptNeverTrustedNorWritten(t *testing.T) {
	ctx := context.Background()
	good := block(t, envSize, false, 0, "a=1")
	badCRC := bytes.Clone(good)
	badCRC[0] ^= 1
	noEnd := block(t, envSize, false, 0)
	for i := 4; i < len(noEnd); i++ {
		noEnd[i] = 'x' // CRC fixed below: well-formed checksum, garbage data
	}
	noEnd = fixCRC(noEnd, 4)
	for _, tc := range []struct {
		name, want string
		content    []byte
	}{
		{"bad CRC", "CRC mismatch", badCRC},
		{"truncated", "truncated: 100 of 4096 bytes", good[:100]},
		{"empty file", "truncated: 0 of 4096 bytes", []byte{}},
		{"garbage", "CRC mismatch", bytes.Repeat([]byte{0xff}, envSize)},
		{"valid CRC, no end marker", "unterminated string", noEnd},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSetup(t, tc.content)
			snap := s.snapshot(t)
			e := s.open(t)
			_, err := e.Read(ctx)
			if !errors.Is(err, ubootenv.ErrNoValidEnv) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), s.files[0]) {
				t.Errorf("Read: %v; want ErrNoValidEnv naming the file and %q", err, tc.want)
			}
			if err := e.Update(ctx, map[string]string{"a": "2"}); !errors.Is(err, ubootenv.ErrNoValidEnv) {
				t.Errorf("Update: %v; want ErrNoValidEnv", err)
			}
			if err := e.Print(ctx, &bytes.Buffer{}); !errors.Is(err, ubootenv.ErrNoValidEnv) {
				t.Errorf("Print: %v; want ErrNoValidEnv", err)
			}
			s.unchanged(t, snap)
			// The caller decides: WriteAll replaces it.
			if err := e.WriteAll(ctx, map[string]string{"a": "2"}); err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, s.files[0]); !bytes.Equal(got, block(t, envSize, false, 0, "a=2")) {
				t.Error("WriteAll did not write a clean copy")
			}
		})
	}
}

// fixCRC recomputes the CRC of a copy with header size h.
func fixCRC(b []byte, h int) []byte {
	out := bytes.Clone(b)
	binary.LittleEndian.PutUint32(out, crc32.ChecksumIEEE(out[h:]))
	return out
}

func TestNoValidRedundantNamesBothCopies(t *testing.T) {
	b := block(t, envSize, true, 1, "a=1")
	b[100] ^= 1
	s := newSetup(t, b, b[:10])
	_, err := s.open(t).Read(context.Background())
	if !errors.Is(err, ubootenv.ErrNoValidEnv) {
		t.Fatalf("Read: %v", err)
	}
	for _, want := range []string{"copy 1", s.files[0], "CRC mismatch", "copy 2", s.files[1], "truncated"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestHostileInputWritesNothing(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		set  map[string]string
		want error
	}{
		{"empty name", map[string]string{"": "x"}, ubootenv.ErrInvalid},
		{"= in name", map[string]string{"a=b": "x"}, ubootenv.ErrInvalid},
		{"NUL in name", map[string]string{"a\x00b": "x"}, ubootenv.ErrInvalid},
		{"newline in name", map[string]string{"a\nb": "x"}, ubootenv.ErrInvalid},
		{"NUL in value", map[string]string{"a": "x\x00y"}, ubootenv.ErrInvalid},
		{"newline in value", map[string]string{"a": "x\ny"}, ubootenv.ErrInvalid},
		{".flags", map[string]string{".flags": "a:sa"}, ubootenv.ErrInvalid},
		{"one bad among good", map[string]string{"ok": "1", "bad\n": "2"}, ubootenv.ErrInvalid},
		{"overflow", map[string]string{"big": strings.Repeat("x", envSize)}, ubootenv.ErrTooLarge},
		// The data area holds envSize-5 bytes; "ro=1\0", ".flags=ro:sr\0",
		// "big=" value "\0" and the end marker need one more.
		{"overflow by one byte", map[string]string{"big": strings.Repeat("x", envSize-5+1-len("ro=1\x00.flags=ro:sr\x00big=\x00\x00"))}, ubootenv.ErrTooLarge},
		{"read-only", map[string]string{"ro": "2"}, ubootenv.ErrReadOnly},
		{"delete read-only", map[string]string{"ro": ""}, ubootenv.ErrReadOnly},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSetup(t, block(t, envSize, true, 1, "ro=1", ".flags=ro:sr"), block(t, envSize, true, 0, "ro=0"))
			snap := s.snapshot(t)
			err := s.open(t).Update(ctx, tc.set)
			if !errors.Is(err, tc.want) {
				t.Errorf("Update: %v; want %v", err, tc.want)
			}
			s.unchanged(t, snap)
		})
	}
}

func TestFillExactly(t *testing.T) {
	ctx := context.Background()
	s := newSetup(t, block(t, envSize, false, 0))
	e := s.open(t)
	// 4 CRC bytes, "v=" value NUL, the end marker: exactly ENVSIZE.
	full := strings.Repeat("x", envSize-4-len("v=")-1-1)
	if err := e.Update(ctx, map[string]string{"v": full}); err != nil {
		t.Fatalf("a value that fills ENVSIZE exactly: %v", err)
	}
	if err := e.Update(ctx, map[string]string{"v": full + "x"}); !errors.Is(err, ubootenv.ErrTooLarge) {
		t.Fatalf("one byte more: %v; want ErrTooLarge", err)
	}
	if v, _, err := e.Get(ctx, "v"); err != nil || v != full {
		t.Errorf("after the refused update: len %d, %v", len(v), err)
	}
}

func TestWriteAllLeavesOutEmptyValues(t *testing.T) {
	s := newSetup(t, []byte{}) // Open needs the file to exist, as libubootenv does
	e := s.open(t, ubootenv.WithLockFile(""))
	_, err := e.Read(context.Background())
	if !errors.Is(err, ubootenv.ErrNoValidEnv) {
		t.Fatalf("Read of an empty file: %v", err)
	}
	if err := e.WriteAll(context.Background(), map[string]string{"a": "1", "b": "", ".flags": "a:sr"}); err != nil {
		t.Fatal(err)
	}
	if got, want := readFile(t, s.files[0]), block(t, envSize, false, 0, "a=1", ".flags=a:sr"); !bytes.Equal(got, want) {
		t.Errorf("WriteAll wrote\n%q\nwant\n%q", got[:32], want[:32])
	}
}

func TestPrint(t *testing.T) {
	s := newSetup(t, block(t, envSize, false, 0, "zeta=1", "alpha=2 3", ".flags=zeta:sa", "Beta=", "mid=a=b"))
	e := s.open(t)
	for _, tc := range []struct {
		names []string
		want  string
	}{
		{nil, "Beta=\nalpha=2 3\nmid=a=b\nzeta=1\n"},
		{[]string{"zeta", "nope", "alpha", ".flags"}, "zeta=1\nnope=\nalpha=2 3\n.flags=\n"},
	} {
		if got := printed(t, e, tc.names...); got != tc.want {
			t.Errorf("Print(%q) = %q, want %q", tc.names, got, tc.want)
		}
	}
	var b bytes.Buffer
	if err := e.PrintValues(context.Background(), &b, "alpha", "nope", "zeta"); err != nil || b.String() != "2 3\n\n1\n" {
		t.Errorf("PrintValues = %q, %v", b.String(), err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "env")
	writeFile(t, file, block(t, envSize, false, 0))
	for _, tc := range []struct {
		name string
		cfg  ubootenv.Config
		want string
	}{
		{"missing device", ubootenv.Config{Copies: []ubootenv.Location{{Path: filepath.Join(dir, "nope"), Size: envSize}}}, "no such file"},
		{"mtd", ubootenv.Config{Copies: []ubootenv.Location{{Path: "/dev/mtd0", Size: envSize}}}, "MTD and UBI"},
		{"char device", ubootenv.Config{Copies: []ubootenv.Location{{Path: "/dev/null", Size: envSize}}}, "not a plain file or a block device"},
		{"negative offset on a file", ubootenv.Config{Copies: []ubootenv.Location{{Path: file, Offset: -envSize, Size: envSize}}}, "negative offset needs a block device"},
		{"no copies", ubootenv.Config{}, "0 copies"},
		{"sizes differ", ubootenv.Config{Copies: []ubootenv.Location{{Path: file, Size: envSize}, {Path: file, Offset: 2 * envSize, Size: 2 * envSize}}}, "differs"},
		{"overlap", ubootenv.Config{Copies: []ubootenv.Location{{Path: file, Size: envSize}, {Path: file, Offset: envSize - 1, Size: envSize}}}, "overlap"},
		{"overlap through a symlink", ubootenv.Config{Copies: []ubootenv.Location{{Path: file, Size: envSize}, {Path: symlink(t, file), Size: envSize}}}, "overlap"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ubootenv.Open(tc.cfg)
			if !errors.Is(err, ubootenv.ErrBadConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open: %v; want ErrBadConfig saying %q", err, tc.want)
			}
		})
	}
}

// symlink returns a new symbolic link to target.
func symlink(t *testing.T, target string) string {
	l := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(target, l); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestSymlinkedFileIsReplacedNotTheLink(t *testing.T) {
	s := newSetup(t, block(t, envSize, false, 0, "a=1"))
	link := symlink(t, s.files[0])
	writeFile(t, s.config, []byte(link+" 0 0x1000\n"))
	if err := s.open(t).Update(context.Background(), map[string]string{"a": "2"}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v", err)
	}
	if got := readFile(t, s.files[0]); !bytes.Equal(got, block(t, envSize, false, 0, "a=2")) {
		t.Error("the target was not updated")
	}
}

func TestInPlaceSingleCopyKeepsTheRestOfTheFile(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "disk.img")
	content := bytes.Repeat([]byte{0xa5}, 4*envSize)
	copy(content[envSize:], block(t, envSize, false, 0, "a=1"))
	writeFile(t, img, content)
	cfg := filepath.Join(dir, "fw_env.config")
	writeFile(t, cfg, []byte(img+" 0x1000 1000\n"))
	c, err := ubootenv.ParseConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e, err := ubootenv.Open(c, ubootenv.WithLockFile(""))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Update(context.Background(), map[string]string{"a": "2"}); err != nil {
		t.Fatal(err)
	}
	copy(content[envSize:], block(t, envSize, false, 0, "a=2"))
	if got := readFile(t, img); !bytes.Equal(got, content) {
		t.Error("bytes outside the copy changed, or the copy is wrong")
	}
}

func TestContextCancelled(t *testing.T) {
	s := newSetup(t, block(t, envSize, false, 0, "a=1"))
	snap := s.snapshot(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.open(t).Update(ctx, map[string]string{"a": "2"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Update with a cancelled context: %v", err)
	}
	s.unchanged(t, snap)
}

// A redundant copy that cannot be read whole is invalid, and its twin is
// used, as in U-Boot. (libubootenv 0.3.2 refuses the whole environment on
// a short read.) The next update repairs it.
func TestRedundantTruncatedCopy(t *testing.T) {
	ctx := context.Background()
	good := block(t, envSize, true, 4, "a=1")
	s := newSetup(t, good, good[:envSize/2])
	e := s.open(t)
	if v, _, err := e.Get(ctx, "a"); err != nil || v != "1" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if err := e.Update(ctx, map[string]string{"a": "2"}); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, s.files[1]); !bytes.Equal(got, block(t, envSize, true, 5, "a=2")) {
		t.Error("the truncated copy was not rewritten whole")
	}
	if got := readFile(t, s.files[0]); !bytes.Equal(got, good) {
		t.Error("the copy in use was written")
	}
}

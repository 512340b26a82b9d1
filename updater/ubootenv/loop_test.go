package ubootenv_test

import (
	"bytes"
	"context"
	"fmt"

	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lockd.dev/lockd/internal/testtool"
)

// TestLoopDevice runs a redundant environment on a real block device, one
// copy at a negative offset (from the end of the device, which libubootenv
// resolves with BLKGETSIZE64), against fw_printenv and fw_setenv.
func TestLoopDevice(t *testing.T) {
	testtool.NeedRoot(t, "an environment on a loop device")
	losetup := testtool.Need(t, "losetup", "mount")
	f := newFW(t)
	ctx := context.Background()

	const devSize = 1 << 20
	img := filepath.Join(t.TempDir(), "disk.img")
	writeFile(t, img, make([]byte, devSize))
	dev := strings.TrimSpace(run(t, nil, losetup, "--find", "--show", img))
	if !strings.HasPrefix(dev, "/dev/loop") {
		t.Fatalf("losetup printed %q", dev)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(losetup, "-d", dev).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v: %s", dev, err, out)
		}
	})

	s := setup{dir: t.TempDir()}
	s.config = filepath.Join(s.dir, "fw_env.config")
	writeFile(t, s.config, []byte(fmt.Sprintf("%s 0x10000 %#x\n%s -%#x %#x\n", dev, envSize, dev, envSize, envSize)))
	e := s.open(t)

	// All zeros: no valid copy. The first write goes to copy 2 with flags 1.
	if err := e.WriteAll(ctx, map[string]string{"bootdelay": "2", "lockd_slot": "A"}); err != nil {
		t.Fatal(err)
	}
	if err := e.Update(ctx, map[string]string{"lockd_try": "B", "lockd_try_left": "3"}); err != nil {
		t.Fatal(err)
	}
	want := "bootdelay=2\nlockd_slot=A\nlockd_try=B\nlockd_try_left=3\n"
	if got := f.print(t, s.config); got != want {
		t.Errorf("fw_printenv on %s:\n%s\nwant\n%s", dev, got, want)
	}
	f.set(t, s.config, map[string]string{"lockd_slot": "B", "lockd_try": "", "lockd_try_left": ""})
	got, err := e.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"bootdelay": "2", "lockd_slot": "B"}, got); diff != "" {
		t.Errorf("after fw_setenv (-want +got):\n%s", diff)
	}

	// The copies are where the config says, with the flags numbered 1, 2, 3.
	disk := readFile(t, img)
	for _, c := range []struct {
		off   int
		flags byte
		vars  []string
	}{
		{0x10000, 2, []string{"bootdelay=2", "lockd_slot=A", "lockd_try=B", "lockd_try_left=3"}},
		{devSize - envSize, 3, []string{"bootdelay=2", "lockd_slot=B"}},
	} {
		b := disk[c.off : c.off+envSize]
		want := block(t, envSize, true, c.flags, c.vars...)
		end := bytes.Index(want[5:], []byte{0, 0}) + 7 // fw_setenv's padding is its heap's
		if !bytes.Equal(b[4:end], want[4:end]) {
			t.Errorf("copy at %#x: %q, want %q", c.off, b[4:end], want[4:end])
		}
	}
}

package updater_test

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/blockindex"
	"lockd.dev/lockd/updater/bundle"
	"lockd.dev/lockd/updater/ubootenv/ubootenvtest"
)

// Indexed bundles (issue 14): one pass over the stored bytes, chunk by
// chunk, and adaptive installs.

const testChunk = 64 << 10

// changed is base with every 20th run of 4 blocks, from block at,
// rewritten: 5 % of the blocks, in runs, as a file-system update changes
// files.
func changed(base []byte, version string, at int) []byte {
	img := bytes.Clone(base)
	fresh := image(version, len(base))
	for off := at * 4096; off < len(img); off += 80 * 4096 {
		copy(img[off:min(off+4*4096, len(img))], fresh[off:])
	}
	copy(img, "ROOTFS "+version+"\x00")
	return img
}

// slotWrites sums the bytes the operations wrote to path.
func slotWrites(ops []string, path string) int {
	total := 0
	for _, op := range ops {
		if rest, ok := strings.CutPrefix(op, "write "+path+" "); ok {
			_, n, _ := strings.Cut(rest, "+")
			v, _ := strconv.Atoi(n)
			total += v
		}
	}
	return total
}

// TestAdaptiveInstall: slot A runs 1.0.0, slot B holds 0.9.0; 2.0.0
// changes 5 % of 1.0.0's blocks. The install writes only the blocks
// slot B lacks, the rest coming from slot A, and the slot ends holding
// 2.0.0 exactly, which boots.
func TestAdaptiveInstall(t *testing.T) {
	r := newRig(t)
	v1 := r.versions["1.0.0"]
	old := changed(v1, "0.9.0", 40) // other runs than 2.0.0's: those come from slot A
	if err := os.WriteFile(r.m.SlotPath(updater.SlotB), old, 0o600); err != nil {
		t.Fatal(err)
	}
	v2 := changed(v1, "2.0.0", 0)
	path := r.bundle("2.0.0", bundleOpts{chunk: testChunk, img: v2})
	st := &ubootenvtest.Storage{}
	u, err := r.lockd(r.boot(), st)
	if err != nil {
		t.Fatal(err)
	}
	if err := install(t, u, path, updater.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(r.m.SlotPath(updater.SlotB))
	if !bytes.Equal(got[:len(v2)], v2) {
		t.Fatal("slot B does not hold 2.0.0")
	}
	// 0.9.0 and 2.0.0 each differ from 1.0.0 in 5 % of the blocks.
	written := slotWrites(st.Ops, r.m.SlotPath(updater.SlotB))
	if written == 0 || written > len(v2)*12/100 {
		t.Fatalf("wrote %d of %d bytes; an adaptive install writes what changed", written, len(v2))
	}
	approveAndReboot(t, r, u)
	if b := r.boot(); b.Slot != updater.SlotB || !b.Trial {
		t.Fatalf("booted %+v", b)
	}
}

// TestOnePassStopsAtBadChunk: a bundle whose bytes changed after signing
// (a bit flipped in chunk 20) passes every check but the stored bytes';
// with nothing pending, the install checks each chunk as it writes, stops
// at chunk 20 before writing it, and leaves the slot recorded empty with
// the reason. Nothing from chunk 20 on reached the slot.
func TestOnePassStopsAtBadChunk(t *testing.T) {
	r := newRig(t)
	path := r.bundle("2.0.0", bundleOpts{chunk: testChunk})
	flipInChunk(t, path, 20)
	slotB := r.m.SlotPath(updater.SlotB)
	before, _ := os.ReadFile(slotB)
	u := r.mustLockd(r.boot())
	err := install(t, u, path, updater.InstallOptions{})
	if err == nil || !strings.Contains(err.Error(), "chunk 20") {
		t.Fatalf("install: %v; want a refusal of chunk 20", err)
	}
	s := u.Status()
	if s.Pending != nil || s.Slots[updater.SlotB].State != updater.SlotEmpty || !strings.Contains(s.LastError, "chunk 20") {
		t.Fatalf("after the failed install: %+v", s)
	}
	after, _ := os.ReadFile(slotB)
	if from := 20 * testChunk; !bytes.Equal(after[from:], before[from:]) {
		t.Fatal("bytes of chunk 20 or later were written")
	}
	if b := r.boot(); b.Slot != updater.SlotA || b.Trial {
		t.Fatalf("booted %+v", b)
	}
}

// TestOnePassKeepsPending: with an update pending in the target slot, the
// same bundle is refused by the first pass before anything changes.
func TestOnePassKeepsPending(t *testing.T) {
	r := newRig(t)
	u := r.mustLockd(r.boot())
	if err := install(t, u, r.bundle("2.0.0", bundleOpts{chunk: testChunk}), updater.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	path := r.bundle("3.0.0", bundleOpts{chunk: testChunk})
	flipInChunk(t, path, 20)
	before := r.files()
	if err := install(t, u, path, updater.InstallOptions{}); !errors.Is(err, bundle.ErrImageHash) {
		t.Fatalf("install: %v; want ErrImageHash before writing", err)
	}
	assertUnchanged(t, before, r.files())
	if s := u.Status(); s.Pending == nil || s.Pending.Version != "2.0.0" {
		t.Fatalf("pending: %+v", s.Pending)
	}
}

// TestIndexThatLies: a signed index whose block hashes are not the
// image's makes an adaptive install reuse the wrong blocks or refuse the
// decoded ones; either way the slot is never recorded installed.
func TestIndexThatLies(t *testing.T) {
	r := newRig(t)
	v1 := r.versions["1.0.0"]
	if err := os.WriteFile(r.m.SlotPath(updater.SlotB), v1, 0o600); err != nil {
		t.Fatal(err)
	}
	v2 := changed(v1, "2.0.0", 0)
	path := r.bundle("2.0.0", bundleOpts{chunk: testChunk, img: v2, editIndex: func(ix *blockindex.Index) {
		// Say the changed blocks are 1.0.0's: slot B "has" them.
		ix.Blocks = blockindex.HashBlocks(ix.Blocks[:0], v1, int(ix.BlockSize))
	}})
	u := r.mustLockd(r.boot())
	err := install(t, u, path, updater.InstallOptions{})
	if err == nil || !strings.Contains(err.Error(), "read back slot") {
		t.Fatalf("install: %v; want the read-back to refuse the slot", err)
	}
	if s := u.Status(); s.Pending != nil || s.Slots[updater.SlotB].State != updater.SlotEmpty {
		t.Fatalf("after the lie: %+v", s)
	}
}

// TestIndexOutsideImage: an index whose chunks point past the image
// section, or describe another image size, is refused before anything
// changes.
func TestIndexOutsideImage(t *testing.T) {
	r := newRig(t)
	u := r.mustLockd(r.boot())
	for name, edit := range map[string]func(*blockindex.Index){
		"chunk past the end": func(ix *blockindex.Index) { ix.Chunks[len(ix.Chunks)-1].Size += 100 },
		"longer image":       func(ix *blockindex.Index) { ix.ImageSize += 4096; ix.Blocks = append(ix.Blocks, blockindex.Sum{}) },
	} {
		t.Run(name, func(t *testing.T) {
			path := r.bundle("2.0.0", bundleOpts{chunk: testChunk, editIndex: edit})
			before := r.files()
			if err := install(t, u, path, updater.InstallOptions{}); !errors.Is(err, bundle.ErrMalformed) {
				t.Fatalf("install: %v; want ErrMalformed", err)
			}
			assertUnchanged(t, before, r.files())
		})
	}
}

// flipInChunk flips a byte in the middle of chunk k's stored bytes in
// the bundle file, leaving the signed manifest and index as they are.
func flipInChunk(t *testing.T, path string, k int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	off, ok := chunkOffset(data, k)
	if !ok {
		t.Fatalf("test bug: no chunk %d", k)
	}
	data[off] ^= 0x40
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// chunkOffset finds the middle of chunk k in a bundle without keys: the
// BIDX section, parsed, and the IMAG section after it.
func chunkOffset(data []byte, k int) (int, bool) {
	i := bytes.Index(data, []byte("BIDX"))
	if i < 0 {
		return 0, false
	}
	n := int(be64(data[i+4:]))
	ix, err := blockindex.Parse(data[i+12 : i+12+n])
	if err != nil || k >= len(ix.Chunks) {
		return 0, false
	}
	img := i + 12 + n + 12
	c := ix.Chunks[k]
	return img + int(c.Offset+c.Size/2), true
}

func be64(b []byte) uint64 {
	var v uint64
	for _, x := range b[:8] {
		v = v<<8 | uint64(x)
	}
	return v
}

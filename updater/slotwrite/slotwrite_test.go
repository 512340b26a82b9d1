package slotwrite_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"lockd.dev/lockd/updater/bundle"
	"lockd.dev/lockd/updater/bundle/bundletest"
	"lockd.dev/lockd/updater/slotwrite"
)

const size = 3<<20 + 5000 // a short last block and chunk

func pattern(seed byte, n int) []byte {
	b := make([]byte, n)
	s := sha256.Sum256([]byte{seed})
	for i := 0; i < n; i += len(s) {
		copy(b[i:], s[:])
		s = sha256.Sum256(s[:])
	}
	return b
}

// open makes an indexed bundle of img and returns its reader and chunks.
func open(t *testing.T, img []byte) (*bundle.Reader, *bundle.Chunks) {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(nil)
	data := bundletest.Make(t, priv, img, bundletest.Options{Compatible: "a,b", Version: "1.0.0", ChunkSize: 64 << 10})
	br, err := bundle.Open(bytes.NewReader(data), bundle.NewKeyring(pub))
	if err != nil {
		t.Fatal(err)
	}
	c, err := br.Chunks(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return br, c
}

func slot(t *testing.T, content []byte) *os.File {
	t.Helper()
	p := filepath.Join(t.TempDir(), "slot")
	if err := os.WriteFile(p, content, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func check(t *testing.T, f *os.File, img []byte) {
	t.Helper()
	got := make([]byte, len(img))
	if _, err := f.ReadAt(got, 0); err != nil || !bytes.Equal(got, img) {
		t.Fatalf("the slot does not hold the image (%v)", err)
	}
}

func TestChunked(t *testing.T) {
	img := pattern(1, size)
	br, c := open(t, img)
	dev := slot(t, make([]byte, size+8192))
	st, err := slotwrite.Chunked(context.Background(), dev, c, br.Manifest().Image.SHA256, slotwrite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	check(t, dev, img)
	if st.Written != size || st.BundleRead != br.Manifest().Image.StoredSize {
		t.Fatalf("stats %+v", st)
	}
}

func TestStream(t *testing.T) {
	img := pattern(2, size)
	br, _ := open(t, img)
	dev := slot(t, nil)
	if _, err := slotwrite.Stream(context.Background(), dev, br.Image(), size, br.Manifest().Image.SHA256, slotwrite.Options{}); err != nil {
		t.Fatal(err)
	}
	check(t, dev, img)
}

// shifty is an active slot whose blocks change after they are first read:
// what the scan saw is not what the copy reads.
type shifty struct {
	b    []byte
	mu   sync.Mutex
	seen map[int64]bool
}

func (s *shifty) ReadAt(p []byte, off int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := copy(p, s.b[off:])
	for i := 0; i < n; i++ {
		if blk := (off + int64(i)) / 4096; s.seen[blk] {
			p[i] ^= 0x55
		}
	}
	for blk := off / 4096; blk*4096 < off+int64(n); blk++ {
		s.seen[blk] = true
	}
	return n, nil
}

// TestActiveBlockChanged: blocks the active slot held when it was
// scanned, changed before they are copied, are taken from the bundle
// instead; the slot ends holding the image.
func TestActiveBlockChanged(t *testing.T) {
	img := pattern(3, size)
	target := bytes.Clone(img)
	for off := 0; off < len(target); off += 40 * 4096 { // the slot lacks 1 block in 40
		copy(target[off:off+4096], pattern(4, 4096))
	}
	br, c := open(t, img)
	dev := slot(t, target)
	active := &shifty{b: img, seen: map[int64]bool{}}
	st, err := slotwrite.Adaptive(context.Background(), dev, active, c, br.Manifest().Image.SHA256, slotwrite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	check(t, dev, img)
	if st.ReusedActive != 0 || st.BundleRead == 0 || st.Written > size/20 {
		t.Fatalf("stats %+v: every changed block must have come from the bundle", st)
	}
	// The same with an honest active slot: nothing read from the bundle.
	dev = slot(t, target)
	st, err = slotwrite.Adaptive(context.Background(), dev, bytes.NewReader(img), c, br.Manifest().Image.SHA256, slotwrite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	check(t, dev, img)
	if st.ReusedActive == 0 || st.BundleRead != 0 {
		t.Fatalf("stats %+v", st)
	}
}

package bundle

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// genImage is an n-byte image generated on the fly, a pure function of
// (seed, offset) so two passes over it read the same bytes: one 4 KiB page
// in three is random, the others text, roughly like a root file system.
type genImage struct {
	seed, off, n uint64
	page         [4096]byte
	pageNo       uint64
	filled       bool
}

func newGenImage(n, seed uint64) *genImage { return &genImage{n: n, seed: seed} }

func (g *genImage) Read(p []byte) (int, error) {
	if g.off >= g.n {
		return 0, io.EOF
	}
	p = p[:min(uint64(len(p)), g.n-g.off)]
	done := 0
	for done < len(p) {
		no := g.off / uint64(len(g.page))
		if !g.filled || no != g.pageNo {
			g.fill(no)
		}
		n := copy(p[done:], g.page[g.off%uint64(len(g.page)):])
		done += n
		g.off += uint64(n)
	}
	return done, nil
}

func (g *genImage) fill(no uint64) {
	g.pageNo, g.filled = no, true
	r := rand.New(rand.NewPCG(g.seed, no))
	if no%3 == 0 {
		for i := range g.page {
			g.page[i] = byte(r.Uint32())
		}
		return
	}
	b := g.page[:0]
	for len(b) < len(g.page) {
		b = fmt.Appendf(b, "/usr/lib/lockd/%d page %d ok\n", r.IntN(100), no)
	}
	copy(g.page[:], b)
}

// writeBigBundle writes a bundle of an n-byte generated image to a file,
// streaming it; the test never holds the image in memory.
func writeBigBundle(t testing.TB, n uint64, compression string) string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	stored, err := os.Create(filepath.Join(dir, "stored"))
	if err != nil {
		t.Fatal(err)
	}
	defer stored.Close()
	var src io.Reader = stored
	dst := io.Writer(stored)
	if compression == CompressionNone {
		dst, src = io.Discard, newGenImage(n, 7)
	}
	img, err := EncodeImage(ctx, dst, newGenImage(n, 7), compression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stored.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	m := testManifest()
	m.Image = img
	path := filepath.Join(dir, "big.bundle")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := Write(ctx, out, testKey(1), m, src); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBigImageBoundedMemory streams a 64 MiB image (32 MiB under the race
// detector) and samples the heap after every read: the peak must stay far
// below the image size.
func TestBigImageBoundedMemory(t *testing.T) {
	size := uint64(64 << 20)
	if raceEnabled {
		size = 32 << 20
	}
	const limit = 16 << 20
	keys := NewKeyring(pubOf(testKey(1)))
	for _, c := range []string{CompressionNone, CompressionZstd} {
		t.Run(c, func(t *testing.T) {
			path := writeBigBundle(t, size, c)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			base, baseTotal := ms.HeapAlloc, ms.TotalAlloc
			r, err := Open(f, keys)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			buf := make([]byte, 64<<10)
			var peak, n uint64
			for {
				k, err := r.Image().Read(buf)
				n += uint64(k)
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc-min(base, ms.HeapAlloc))
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if n != size {
				t.Fatalf("read %d bytes, want %d", n, size)
			}
			t.Logf("%s: %d MiB image: peak heap above baseline %.2f MiB, allocated in total %.2f MiB",
				c, size>>20, float64(peak)/(1<<20), float64(ms.TotalAlloc-baseTotal)/(1<<20))
			if peak > limit {
				t.Errorf("peak heap %d bytes, want < %d", peak, limit)
			}
		})
	}
}

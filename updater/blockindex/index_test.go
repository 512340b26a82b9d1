package blockindex

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var genCorpus = flag.Bool("gen-corpus", false, "rewrite the seed corpus in testdata/fuzz")

// sample is a valid index of a size-byte image.
func sample(size uint64, bs, per uint32) *Index {
	img := bytes.Repeat([]byte("lockd"), int(size/5)+1)[:size]
	ix := &Index{BlockSize: bs, ChunkBlocks: per, ImageSize: size, Blocks: HashBlocks(nil, img, int(bs))}
	var off uint64
	for i := 0; i*int(per) < len(ix.Blocks); i++ {
		_, n := ix.ChunkRange(i)
		c := Chunk{Offset: off, Size: n/2 + 1, Stored: sha256.Sum256([]byte{byte(i)})}
		ix.Chunks = append(ix.Chunks, c)
		off += c.Size
	}
	return ix
}

func TestRoundTrip(t *testing.T) {
	for _, ix := range []*Index{sample(1, 4096, 1), sample(1<<20+1, 4096, 64), sample(3<<20, 512, 16)} {
		b := ix.Marshal()
		if len(b) != Len(ix.ImageSize, ix.BlockSize, ix.ChunkBlocks) {
			t.Fatalf("Len %d, Marshal %d", Len(ix.ImageSize, ix.BlockSize, ix.ChunkBlocks), len(b))
		}
		got, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Marshal(), b) || got.StoredSize() != ix.StoredSize() {
			t.Fatal("round trip changed the index")
		}
	}
}

func TestRefusals(t *testing.T) {
	good := sample(1<<20+1, 4096, 64).Marshal()
	set32 := func(off int, v uint32) []byte {
		b := bytes.Clone(good)
		binary.BigEndian.PutUint32(b[off:], v)
		return b
	}
	set64 := func(off int, v uint64) []byte {
		b := bytes.Clone(good)
		binary.BigEndian.PutUint64(b[off:], v)
		return b
	}
	for name, b := range map[string][]byte{
		"empty":             nil,
		"magic":             append([]byte("LKDBIDX2"), good[8:]...),
		"block size 3000":   set32(8, 3000),
		"block size 2 MiB":  set32(8, 2<<20),
		"no blocks a chunk": set32(12, 0),
		"chunk over 8 MiB":  set32(12, 4096),
		"image size 0":      set64(16, 0),
		"too many blocks":   set64(16, MaxBlocks*4096+1),
		"one chunk short":   set64(24, 4),
		"cut":               good[:len(good)-1],
		"trailing":          append(bytes.Clone(good), 0),
		"empty chunk":       set64(32, 0),
		"chunk too big":     set64(32, MaxStoredChunk(256<<10)+1),
	} {
		if _, err := Parse(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

// FuzzParse: Parse never panics, refuses with ErrMalformed only, and what
// it accepts encodes back to the same bytes, with chunks that tile the
// stored image and every block range inside the image.
func FuzzParse(f *testing.F) {
	seeds := [][]byte{sample(1, 4096, 1).Marshal(), sample(300000, 4096, 16).Marshal(), sample(70000, 512, 8).Marshal()}
	if *genCorpus {
		dir := filepath.Join("testdata", "fuzz", "FuzzParse")
		os.MkdirAll(dir, 0o755)
		for i, s := range seeds {
			os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%d", i)), []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)), 0o644)
		}
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ix, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("unclassified: %v", err)
			}
			return
		}
		if !bytes.Equal(ix.Marshal(), b) {
			t.Fatal("accepted bytes that do not encode back")
		}
		var off uint64
		for i, c := range ix.Chunks {
			if c.Offset != off || c.Size == 0 {
				t.Fatalf("chunk %d at %d+%d, want offset %d", i, c.Offset, c.Size, off)
			}
			off += c.Size
		}
		for i := range ix.Blocks {
			o, n := ix.BlockRange(i)
			if n == 0 || o+n > ix.ImageSize {
				t.Fatalf("block %d at %d+%d outside the %d-byte image", i, o, n, ix.ImageSize)
			}
		}
	})
}

package bundle

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// zstdBundle builds a bundle whose zstd stream uses the given window, as
// another zstd encoder (say `zstd -19`, 8 MiB) might; patch, if not nil,
// edits the stream before it is signed.
func zstdBundle(t *testing.T, image []byte, window int, patch func([]byte)) []byte {
	t.Helper()
	var stored bytes.Buffer
	enc, err := zstd.NewWriter(&stored, zstd.WithWindowSize(window), zstd.WithEncoderConcurrency(1),
		zstd.WithSingleSegment(false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := enc.Write(image); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	if patch != nil {
		patch(stored.Bytes())
	}
	return signStored(t, image, stored.Bytes())
}

func TestZstdWindowLimit(t *testing.T) {
	keys := NewKeyring(pubOf(testKey(1)))
	size := 12 << 20 // more than the window, so all of it is used
	if raceEnabled {
		size = 9 << 20
	}
	ok := zstdBundle(t, testImage(size, 9), maxZstdWindow, nil)
	// A small stream whose frame header declares a 16 MiB window
	// (Window_Descriptor: exponent 14, mantissa 0), validly signed.
	tooBig := zstdBundle(t, testImage(64<<10, 9), 64<<10, func(b []byte) {
		if b[4]&0x20 != 0 {
			t.Fatal("test bug: single-segment frame has no window descriptor")
		}
		b[5] = 14 << 3
	})

	r, err := Open(bytes.NewReader(ok), keys)
	if err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak uint64
	buf := make([]byte, 64<<10)
	for {
		_, err := r.Image().Read(buf)
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc-min(base, ms.HeapAlloc))
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("8 MiB window: peak heap above baseline %.2f MiB", float64(peak)/(1<<20))
	if peak > 16<<20 {
		t.Errorf("8 MiB window: peak heap %d bytes, want < 16 MiB", peak)
	}

	_, _, err = readBundle(tooBig, keys)
	if !errors.Is(err, ErrImageCorrupt) {
		t.Errorf("16 MiB window: got %v, want ErrImageCorrupt", err)
	}
	t.Logf("16 MiB window refused: %v", err)
}

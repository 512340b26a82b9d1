package slotwrite

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"time"

	"lockd.dev/lockd/updater/blockindex"
)

// scan reads the first size bytes of r front to back in Unit reads, one
// goroutine reading the next while the caller's hashes the last, and
// calls fn with every block's index and sha256.
func scan(ctx context.Context, r io.ReaderAt, ix *blockindex.Index, thread func(), fn func(i int, sum blockindex.Sum)) (time.Duration, error) {
	type filled struct {
		buf []byte
		off uint64
		err error
	}
	bs := uint64(ix.BlockSize)
	unit := max(bs, Unit/bs*bs)
	free := make(chan []byte, 2)
	free <- make([]byte, unit)
	free <- make([]byte, unit)
	full := make(chan filled, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		if thread != nil {
			thread()
		}
		defer close(full)
		for off := uint64(0); off < ix.ImageSize; off += unit {
			var buf []byte
			select {
			case buf = <-free:
			case <-stop:
				return
			}
			n := min(unit, ix.ImageSize-off)
			_, err := r.ReadAt(buf[:n], int64(off))
			if err != nil {
				err = fmt.Errorf("slotwrite: read slot at %d: %w", off, err)
			}
			select {
			case full <- filled{buf[:n], off, err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	var busy time.Duration
	t0 := time.Now()
	for f := range full {
		if f.err != nil {
			return time.Since(t0), f.err
		}
		if err := ctx.Err(); err != nil {
			return time.Since(t0), fmt.Errorf("slotwrite: install interrupted: %w", err)
		}
		first := int(f.off / bs)
		for i := 0; uint64(i)*bs < uint64(len(f.buf)); i++ {
			fn(first+i, sha256.Sum256(f.buf[uint64(i)*bs:min(uint64(i+1)*bs, uint64(len(f.buf)))]))
		}
		free <- f.buf[:cap(f.buf)]
	}
	busy = time.Since(t0)
	return busy, nil
}

// blockAt reads block i of the image's geometry from r into buf and
// reports whether its sha256 is the index's.
func blockAt(r io.ReaderAt, ix *blockindex.Index, i int, buf []byte) (bool, error) {
	off, n := ix.BlockRange(i)
	if _, err := r.ReadAt(buf[:n], int64(off)); err != nil {
		return false, err
	}
	return sha256.Sum256(buf[:n]) == ix.Blocks[i], nil
}

// Similarity samples up to 256 blocks spread over the image and returns
// the share of them that the slot (target) or the active slot already
// hold at the same offset: a cheap guess whether an adaptive install
// would save anything. A read error counts as no match.
func Similarity(target, active io.ReaderAt, ix *blockindex.Index) float64 {
	n := len(ix.Blocks)
	samples := min(n, 256)
	buf := make([]byte, ix.BlockSize)
	hits := 0
	for s := 0; s < samples; s++ {
		i := s * n / samples
		if ok, err := blockAt(target, ix, i, buf); err == nil && ok {
			hits++
		} else if active != nil {
			if ok, err := blockAt(active, ix, i, buf); err == nil && ok {
				hits++
			}
		}
	}
	return float64(hits) / float64(samples)
}

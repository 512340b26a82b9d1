package slotwrite

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"lockd.dev/lockd/updater/blockindex"
	"lockd.dev/lockd/updater/bundle"
)

// Adaptive writes only the blocks of an indexed bundle's image that the
// slot does not already hold at their offset. Each comes from the active
// slot (at any offset) when a block there has the index's sha256 — read
// again and hashed again right before it is written, and taken from the
// bundle instead if it no longer matches — or else from its chunk of the
// bundle, checked against the index as Chunked checks it, decoded, and
// its blocks compared with the index's hashes (a signed index that lies
// stops the install). Then, as every install: fdatasync and the whole
// image read back and hashed against the manifest's sha256, so a slot
// that ends up holding anything else is never installed.
//
// The slot is read through dev, the active slot through active (read
// only). Blocks of the slot are never used at another offset: they may be
// overwritten before they would be copied.
func Adaptive(ctx context.Context, dev Device, active io.ReaderAt, c *bundle.Chunks, sum string, o Options) (Stats, error) {
	st := Stats{Mode: "adaptive"}
	start := time.Now()
	ix := c.Index()
	bs := uint64(ix.BlockSize)
	o.progress("writing", 0)
	// 1. What the slot holds already.
	have := make([]bool, len(ix.Blocks))
	d, err := scan(ctx, dev, ix, o.Thread, func(i int, s blockindex.Sum) { have[i] = s == ix.Blocks[i] })
	st.Scan += d
	if err != nil {
		return st, err
	}
	want := map[blockindex.Sum]int64{} // sha256 -> offset in the active slot, -1: none found
	for i, ok := range have {
		if ok {
			_, n := ix.BlockRange(i)
			st.ReusedTarget += n
		} else {
			want[ix.Blocks[i]] = -1
		}
	}
	o.progress("writing", 10)
	// 2. Where the active slot holds the rest: at the same offset, and
	// anywhere if a sample shows blocks moved.
	if active != nil && len(want) > 0 {
		t0 := time.Now()
		buf := make([]byte, bs)
		for i, ok := range have {
			if !ok {
				if same, err := blockAt(active, ix, i, buf); err == nil && same {
					off, _ := ix.BlockRange(i)
					want[ix.Blocks[i]] = int64(off)
				}
			}
		}
		st.Scan += time.Since(t0)
		if moved(active, ix, want, buf) {
			d, err := scan(ctx, active, ix, o.Thread, func(i int, s blockindex.Sum) {
				if at, ok := want[s]; ok && at < 0 {
					want[s] = int64(i) * int64(bs)
				}
			})
			st.Scan += d
			if err != nil {
				return st, err
			}
		}
	}
	o.progress("writing", 20)
	// 3. Write what is missing, chunk by chunk.
	dec, err := bundle.NewChunkDecoder()
	if err != nil {
		return st, err
	}
	defer dec.Close()
	out := make([]byte, ix.ChunkSize())
	decoded := make([]byte, 0, ix.ChunkSize())
	blk := make([]byte, bs)
	same := make([]byte, ix.ChunkSize()) // the active slot's bytes of the chunk's range
	per := int(ix.ChunkBlocks)
	var synced uint64 // st.Written at the last SyncEvery sync
	for k := range ix.Chunks {
		if err := ctx.Err(); err != nil {
			return st, fmt.Errorf("slotwrite: install interrupted: %w", err)
		}
		first, last := k*per, min((k+1)*per, len(ix.Blocks))
		fromBundle, sameRead := false, false
		var need []int
		for i := first; i < last; i++ {
			if have[i] {
				continue
			}
			need = append(need, i)
			at := want[ix.Blocks[i]]
			if at < 0 {
				fromBundle = true
				continue
			}
			// Read it again and hash it again: the active slot may have
			// changed since it was scanned. Blocks at their own offset,
			// the usual case, come from one read of the chunk's range.
			off, n := ix.BlockRange(i)
			t0 := time.Now()
			var b []byte
			var rerr error
			if uint64(at) == off {
				if !sameRead {
					cOff, cN := ix.ChunkRange(k)
					_, rerr = active.ReadAt(same[:cN], int64(cOff))
					sameRead = rerr == nil
				}
				b = same[uint64(i-first)*bs:][:n]
			} else {
				_, rerr = active.ReadAt(blk[:n], at)
				b = blk[:n]
			}
			st.Scan += time.Since(t0)
			if rerr != nil || sha256.Sum256(b) != ix.Blocks[i] {
				want[ix.Blocks[i]] = -1
				fromBundle = true
				continue
			}
			copy(out[uint64(i-first)*bs:], b)
			st.ReusedActive += n
			have[i] = true // filled from the active slot
		}
		if len(need) == 0 {
			continue
		}
		if fromBundle {
			t0 := time.Now()
			stored, err := dec.Stored(c, k)
			if err != nil {
				return st, err
			}
			st.BundleRead += uint64(len(stored))
			if decoded, err = dec.Decode(c, k, stored, decoded); err != nil {
				return st, err
			}
			for _, i := range need {
				if have[i] {
					continue
				}
				b := decoded[uint64(i-first)*bs : min(uint64(i-first+1)*bs, uint64(len(decoded)))]
				if sha256.Sum256(b) != ix.Blocks[i] {
					return st, fmt.Errorf("slotwrite: block %d of chunk %d does not hash to what the signed index says: the index lies", i, k)
				}
				copy(out[uint64(i-first)*bs:], b)
			}
			st.Decode += time.Since(t0)
		}
		if err := writeRuns(dev, ix, need, first, out, &st); err != nil {
			return st, err
		}
		if o.SyncEvery > 0 && st.Written-synced >= o.SyncEvery {
			if err := syncSlot(dev, &st); err != nil {
				return st, err
			}
			synced = st.Written
		}
		o.progress("writing", 20+70*(k+1)/len(ix.Chunks))
	}
	if err := syncSlot(dev, &st); err != nil {
		return st, err
	}
	o.progress("verifying", 90)
	fw := follow(ctx, dev, ix.ImageSize, nil, func(p int) { o.progress("verifying", 90+p/10) })
	err = fw.finish(sum)
	st.ReadBack = fw.busy
	st.Total = time.Since(start)
	return st, err
}

// moved samples blocks of the active slot at random offsets and reports
// whether any is a block still wanted: then blocks moved, and a full scan
// of the active slot may find more.
func moved(active io.ReaderAt, ix *blockindex.Index, want map[blockindex.Sum]int64, buf []byte) bool {
	rng := rand.New(rand.NewPCG(uint64(len(ix.Blocks)), 14))
	missing := 0
	for _, at := range want {
		if at < 0 {
			missing++
		}
	}
	if missing == 0 {
		return false
	}
	for s := 0; s < 256; s++ {
		i := rng.IntN(len(ix.Blocks))
		off, n := ix.BlockRange(i)
		if _, err := active.ReadAt(buf[:n], int64(off)); err != nil {
			return false
		}
		if at, ok := want[sha256.Sum256(buf[:n])]; ok && at < 0 {
			return true
		}
	}
	return false
}

// writeRuns writes the needed blocks of one chunk from out, each run of
// consecutive blocks in one write.
func writeRuns(dev Device, ix *blockindex.Index, need []int, first int, out []byte, st *Stats) error {
	bs := uint64(ix.BlockSize)
	for j := 0; j < len(need); {
		k := j + 1
		for k < len(need) && need[k] == need[k-1]+1 {
			k++
		}
		off, _ := ix.BlockRange(need[j])
		endOff, endN := ix.BlockRange(need[k-1])
		n := endOff + endN - off
		from := uint64(need[j]-first) * bs
		t0 := time.Now()
		if _, err := dev.WriteAt(out[from:from+n], int64(off)); err != nil {
			return fmt.Errorf("slotwrite: write slot at %d: %w", off, err)
		}
		st.Write += time.Since(t0)
		st.Written += n
		j = k
	}
	return nil
}

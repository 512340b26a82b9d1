package bundle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"runtime"

	"github.com/klauspost/compress/zstd"

	"lockd.dev/lockd/updater/blockindex"
)

// ChunkSize is the image bytes in each independently decodable chunk of
// a FormatIndexed bundle from `lockd bundle create`: small enough that an
// adaptive install, or a download by Range requests, fetches little more
// than what changed; large enough that zstd keeps its ratio (measured in
// docs/BENCHMARKS.md).
const ChunkSize = 256 << 10

// IndexedLevel is the zstd level of indexed bundles: the strongest the
// Go encoder has. Decoding is no slower than at the default level.
const IndexedLevel = zstd.SpeedBestCompression

// EncodeIndexed compresses src, size bytes, into dst as a FormatIndexed image: one
// zstd frame per chunk of chunkSize image bytes (each declaring its
// content size, with no checksum: the index holds its sha256), compressed
// on every core, and returns the manifest's Image and the block-hash
// index. Memory stays bounded: a few chunks per core are in flight.
func EncodeIndexed(ctx context.Context, dst io.Writer, src io.Reader, size int64, chunkSize int, level zstd.EncoderLevel) (Image, *blockindex.Index, error) {
	img := Image{Compression: CompressionZstd}
	if chunkSize <= 0 || chunkSize > blockindex.MaxChunkSize || chunkSize%4096 != 0 {
		return img, nil, fmt.Errorf("bundle: chunk size %d: want a multiple of 4096 up to %d", chunkSize, blockindex.MaxChunkSize)
	}
	workers := runtime.GOMAXPROCS(0)
	type job struct {
		raw, out []byte
		sums     []blockindex.Sum
		done     chan struct{}
	}
	bs := blockindex.BlockSizeFor(uint64(size)) // size fixes the block size up front
	if chunkSize%int(bs) != 0 {
		chunkSize = int(bs) // a huge image: one block to a chunk
	}
	ix := &blockindex.Index{BlockSize: bs, ChunkBlocks: uint32(chunkSize) / bs}
	queue := make(chan *job, 2*workers)
	work := make(chan *job, 2*workers)
	errs := make(chan error, 1)
	for w := 0; w < workers; w++ {
		go func() {
			enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(level), zstd.WithEncoderConcurrency(1),
				zstd.WithWindowSize(max(zstd.MinWindowSize, chunkSize)), zstd.WithEncoderCRC(false), zstd.WithSingleSegment(true))
			for j := range work {
				if err == nil {
					j.out = enc.EncodeAll(j.raw, nil)
				}
				j.sums = blockindex.HashBlocks(nil, j.raw, int(bs))
				close(j.done)
			}
			if err != nil {
				select {
				case errs <- fmt.Errorf("bundle: zstd encoder: %w", err):
				default:
				}
			}
		}()
	}
	// The reader feeds the workers in order; the writer below takes the
	// results in the same order.
	go func() {
		defer close(work)
		defer close(queue)
		for ctx.Err() == nil {
			j := &job{raw: make([]byte, chunkSize), done: make(chan struct{})}
			n, err := io.ReadFull(src, j.raw)
			if n == 0 {
				if err != io.EOF {
					select {
					case errs <- fmt.Errorf("bundle: encode image: %w", err):
					default:
					}
				}
				return
			}
			j.raw = j.raw[:n]
			work <- j
			queue <- j
			if err != nil {
				return // ErrUnexpectedEOF: the last, short chunk
			}
		}
	}()
	whole, stored := sha256.New(), sha256.New()
	var off uint64
	defer func() {
		go func() { // after an early return, let the reader and workers end
			for range queue {
			}
		}()
	}()
	for j := range queue {
		<-j.done
		if j.out == nil {
			continue // the encoder failed: errs says why
		}
		whole.Write(j.raw)
		stored.Write(j.out)
		if _, err := dst.Write(j.out); err != nil {
			return img, nil, fmt.Errorf("bundle: encode image: %w", err)
		}
		ix.Chunks = append(ix.Chunks, blockindex.Chunk{Offset: off, Size: uint64(len(j.out)), Stored: sha256.Sum256(j.out)})
		ix.Blocks = append(ix.Blocks, j.sums...)
		off += uint64(len(j.out))
		img.Size += uint64(len(j.raw))
	}
	select {
	case err := <-errs:
		return img, nil, err
	default:
	}
	if err := ctx.Err(); err != nil {
		return img, nil, err
	}
	if img.Size != uint64(size) {
		return img, nil, fmt.Errorf("bundle: encode image: read %d bytes, the file is %d (did it change?)", img.Size, size)
	}
	ix.ImageSize = img.Size
	img.SHA256 = hex.EncodeToString(whole.Sum(nil))
	img.StoredSize = off
	img.StoredSHA256 = hex.EncodeToString(stored.Sum(nil))
	if _, err := blockindex.Parse(ix.Marshal()); err != nil {
		return img, nil, fmt.Errorf("bundle: encode image: %w", err)
	}
	return img, ix, nil
}

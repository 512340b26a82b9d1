package bundle

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"

	"lockd.dev/lockd/updater/blockindex"
)

// Chunks reads the image of a FormatIndexed bundle chunk by chunk, in any
// order, from a source that can be read at any offset (the bundle file;
// later a remote one fetched by Range requests). Every chunk is checked
// against the signed index before one byte of it is decoded. Safe for
// concurrent use; each goroutine decodes with its own ChunkDecoder.
type Chunks struct {
	ix  *blockindex.Index
	ra  io.ReaderAt
	off int64
}

// Chunks returns the chunk reader of this bundle's image, read from ra,
// the whole bundle as Open read it. It fails for a bundle without index.
func (r *Reader) Chunks(ra io.ReaderAt) (*Chunks, error) {
	if r.index == nil {
		return nil, errors.New("bundle: chunks: the bundle has no block-hash index (format 1)")
	}
	return &Chunks{ix: r.index, ra: ra, off: r.imageOff}, nil
}

// Index returns the index the chunks are checked against.
func (c *Chunks) Index() *blockindex.Index { return c.ix }

// ChunkDecoder reads, checks and decodes chunks; it holds one zstd
// decoder with the installer's window bound and reusable buffers. Not
// safe for concurrent use.
type ChunkDecoder struct {
	dec    *zstd.Decoder
	br     *bufio.Reader
	stored []byte
}

// NewChunkDecoder returns a decoder; Close releases it.
func NewChunkDecoder() (*ChunkDecoder, error) {
	dec, err := newDecoder(nil)
	if err != nil {
		return nil, fmt.Errorf("bundle: zstd decoder: %w", err)
	}
	return &ChunkDecoder{dec: dec, br: bufio.NewReaderSize(nil, 4096)}, nil
}

// Close releases the decoder.
func (d *ChunkDecoder) Close() { d.dec.Close() }

// Stored reads chunk i's stored bytes and checks them: their sha256
// against the index (ErrImageHash), then their zstd frames as
// VerifyStored walks a whole image (ErrImageCorrupt), every frame
// declaring its content size and the sizes adding up to the chunk's. The
// slice is valid until the next call.
func (d *ChunkDecoder) Stored(c *Chunks, i int) ([]byte, error) {
	ch := c.ix.Chunks[i]
	if uint64(cap(d.stored)) < ch.Size {
		d.stored = make([]byte, ch.Size) // bounded: blockindex.MaxStoredChunk
	}
	b := d.stored[:ch.Size]
	at := c.off + int64(ch.Offset)
	if n, err := c.ra.ReadAt(b, at); n < len(b) {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: chunk %d at offset %d: %d of %d bytes", ErrTruncated, i, at, n, len(b))
		}
		return nil, fmt.Errorf("bundle: read chunk %d at offset %d: %w", i, at, err)
	}
	if sha256.Sum256(b) != ch.Stored {
		return nil, fmt.Errorf("%w: chunk %d (stored bytes %d..%d of the image) is not what the signed index says", ErrImageHash, i, ch.Offset, ch.Offset+ch.Size)
	}
	_, n := c.ix.ChunkRange(i)
	d.br.Reset(bytes.NewReader(b))
	if err := checkChunkFrames(d.br, n); err != nil {
		return nil, fmt.Errorf("%w (chunk %d)", err, i)
	}
	return b, nil
}

// Decode decodes chunk i's stored bytes, as Stored returned them, into
// dst (reused when large enough) and checks their length. The result's
// bytes are the image's bytes of ChunkRange(i) exactly when the index is
// truthful: a caller compares block hashes where it relies on them, and
// an install verifies the whole slot against the manifest in any case.
func (d *ChunkDecoder) Decode(c *Chunks, i int, stored, dst []byte) ([]byte, error) {
	_, n := c.ix.ChunkRange(i)
	out, err := d.dec.DecodeAll(stored, dst[:0])
	if err != nil {
		return nil, fmt.Errorf("%w: chunk %d: zstd: %w", ErrImageCorrupt, i, err)
	}
	if uint64(len(out)) != n {
		return nil, fmt.Errorf("%w: chunk %d decodes to %d bytes, the index says %d", ErrImageSize, i, len(out), n)
	}
	return out, nil
}

// checkChunkStream is VerifyStored's walk of an indexed image, read in
// order from r: each chunk's sha256 against the index and its frames as
// ChunkDecoder.Stored checks them, so that a signed bundle the chunked
// install would stop on is refused before anything changes.
func checkChunkStream(r io.Reader, ix *blockindex.Index) error {
	var buf []byte
	br := bufio.NewReaderSize(nil, 4096)
	for i, ch := range ix.Chunks {
		if uint64(cap(buf)) < ch.Size {
			buf = make([]byte, ch.Size)
		}
		b := buf[:ch.Size]
		if _, err := io.ReadFull(r, b); err != nil {
			return endError(err)
		}
		if sha256.Sum256(b) != ch.Stored {
			return fmt.Errorf("%w: chunk %d (stored bytes %d..%d of the image) is not what the signed index says", ErrImageHash, i, ch.Offset, ch.Offset+ch.Size)
		}
		_, n := ix.ChunkRange(i)
		br.Reset(bytes.NewReader(b))
		if err := checkChunkFrames(br, n); err != nil {
			return fmt.Errorf("%w (chunk %d)", err, i)
		}
	}
	return nil
}

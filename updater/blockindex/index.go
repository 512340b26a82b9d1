// Package blockindex owns the block-hash index a bundle carries: the
// sha256 of every block of the image and the table of the image's
// independently decodable chunks in the bundle (where each starts, how
// long it is, the sha256 of its stored bytes). The installer reads it to
// verify a bundle chunk by chunk while it streams (one pass over the
// stored bytes), to reuse blocks already present in a slot (adaptive
// updates), and, with a remote bundle, to fetch only the chunks it needs
// with Range requests. The byte layout is in docs/DESIGN.md ("Bundle")
// and in Marshal.
package blockindex

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// Magic starts every index.
const Magic = "LKDBIDX1"

// Bounds that keep a hostile index from costing memory or time: at most
// MaxBlocks block hashes (8 MiB) and MaxChunks chunks, chunks of at most MaxChunkSize image
// bytes (the installer's zstd window bound: a chunk is one frame), blocks
// of 512 bytes to 1 MiB.
const (
	MaxBlocks     = 1 << 18
	MaxChunks     = 1 << 14
	MaxChunkSize  = 8 << 20
	MinBlockSize  = 512
	MaxBlockSize  = 1 << 20
	headerLen     = len(Magic) + 4 + 4 + 8 + 8
	chunkEntryLen = 8 + sha256.Size
)

// ErrMalformed is any index that breaks the layout or its bounds.
var ErrMalformed = errors.New("blockindex: malformed index")

// Sum is a sha256.
type Sum = [sha256.Size]byte

// Chunk is one independently decodable piece of the stored image: the
// image bytes [i*ChunkSize, min((i+1)*ChunkSize, ImageSize)).
type Chunk struct {
	// Offset and Size locate its stored bytes in the bundle's image
	// section; Offset is the sum of the sizes before it.
	Offset, Size uint64
	// Stored is the sha256 of its stored bytes.
	Stored Sum
}

// Index is a parsed, validated block-hash index.
type Index struct {
	BlockSize   uint32
	ChunkBlocks uint32 // blocks per chunk
	ImageSize   uint64
	Chunks      []Chunk
	// Blocks holds the sha256 of every block of the image; the last block
	// may be short and is hashed as it is.
	Blocks []Sum
}

// ChunkSize is the number of image bytes in every chunk but the last.
func (ix *Index) ChunkSize() uint64 { return uint64(ix.BlockSize) * uint64(ix.ChunkBlocks) }

// StoredSize is the length of the image section the chunks fill.
func (ix *Index) StoredSize() uint64 {
	if len(ix.Chunks) == 0 {
		return 0
	}
	c := ix.Chunks[len(ix.Chunks)-1]
	return c.Offset + c.Size
}

// ChunkRange returns where chunk i lies in the image.
func (ix *Index) ChunkRange(i int) (off, n uint64) {
	off = uint64(i) * ix.ChunkSize()
	return off, min(ix.ChunkSize(), ix.ImageSize-off)
}

// BlockRange returns where block i lies in the image.
func (ix *Index) BlockRange(i int) (off, n uint64) {
	off = uint64(i) * uint64(ix.BlockSize)
	return off, min(uint64(ix.BlockSize), ix.ImageSize-off)
}

// BlockSizeFor is the block size `lockd bundle create` uses for an image
// of size bytes: 4 KiB (a file system's block, as RAUC's index), doubled
// until the index fits MaxBlocks.
func BlockSizeFor(size uint64) uint32 {
	bs := uint64(4096)
	for (size+bs-1)/bs > MaxBlocks && bs < MaxBlockSize {
		bs *= 2
	}
	return uint32(bs)
}

// HashBlocks appends the sha256 of each bs-byte block of data (the last
// may be short) to dst.
func HashBlocks(dst []Sum, data []byte, bs int) []Sum {
	for off := 0; off < len(data); off += bs {
		dst = append(dst, sha256.Sum256(data[off:min(off+bs, len(data))]))
	}
	return dst
}

// Len is the length of the encoded index of an image of imageSize bytes
// in blocks of blockSize, chunkBlocks to a chunk; 0 if that breaks the
// bounds.
func Len(imageSize uint64, blockSize, chunkBlocks uint32) int {
	blocks, chunks, err := counts(imageSize, blockSize, chunkBlocks)
	if err != nil {
		return 0
	}
	return headerLen + chunks*chunkEntryLen + blocks*sha256.Size
}

// counts checks the geometry and returns the number of blocks and chunks.
func counts(imageSize uint64, blockSize, chunkBlocks uint32) (blocks, chunks int, err error) {
	bad := func(format string, a ...any) (int, int, error) {
		return 0, 0, fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, a...))
	}
	switch {
	case blockSize < MinBlockSize || blockSize > MaxBlockSize || blockSize&(blockSize-1) != 0:
		return bad("block size %d is not a power of two from %d to %d", blockSize, MinBlockSize, MaxBlockSize)
	case chunkBlocks == 0 || uint64(chunkBlocks)*uint64(blockSize) > MaxChunkSize:
		return bad("%d blocks of %d bytes to a chunk: a chunk must hold 1 to %d bytes", chunkBlocks, blockSize, MaxChunkSize)
	case imageSize == 0:
		return bad("image size 0")
	}
	nb := (imageSize + uint64(blockSize) - 1) / uint64(blockSize)
	if nb > MaxBlocks {
		return bad("%d blocks, more than %d", nb, MaxBlocks)
	}
	nc := (nb + uint64(chunkBlocks) - 1) / uint64(chunkBlocks)
	if nc > MaxChunks {
		return bad("%d chunks, more than %d", nc, MaxChunks)
	}
	return int(nb), int(nc), nil
}

// Marshal encodes the index, all integers big-endian:
//
//	offset  size  field
//	0       8     magic "LKDBIDX1"
//	8       4     block size (a power of two, 512 to 1 MiB)
//	12      4     blocks per chunk (a chunk holds at most 8 MiB of image)
//	16      8     image size (equal to the manifest's image.size)
//	24      8     c, the number of chunks: ceil(blocks / blocks per chunk)
//	32      40*c  per chunk: stored size (8), sha256 of its stored bytes (32)
//	32+40c  32*b  per block: sha256 of its image bytes, b = ceil(size / block size)
//
// A chunk's stored bytes start where the previous chunk's end, at 0 in the
// bundle's image section; their sizes add up to the manifest's
// image.stored_size.
func (ix *Index) Marshal() []byte {
	b := make([]byte, 0, headerLen+len(ix.Chunks)*chunkEntryLen+len(ix.Blocks)*sha256.Size)
	b = append(b, Magic...)
	b = binary.BigEndian.AppendUint32(b, ix.BlockSize)
	b = binary.BigEndian.AppendUint32(b, ix.ChunkBlocks)
	b = binary.BigEndian.AppendUint64(b, ix.ImageSize)
	b = binary.BigEndian.AppendUint64(b, uint64(len(ix.Chunks)))
	for _, c := range ix.Chunks {
		b = binary.BigEndian.AppendUint64(b, c.Size)
		b = append(b, c.Stored[:]...)
	}
	for _, s := range ix.Blocks {
		b = append(b, s[:]...)
	}
	return b
}

// Parse decodes and validates an encoded index: the magic, the geometry
// within its bounds, exactly as many chunks and blocks as the image size
// asks and nothing after them, and no empty chunk or chunk too large to be
// one zstd frame of its image bytes. Errors wrap ErrMalformed.
func Parse(b []byte) (*Index, error) {
	bad := func(format string, a ...any) (*Index, error) {
		return nil, fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, a...))
	}
	if len(b) < headerLen || string(b[:len(Magic)]) != Magic {
		return bad("does not start with %q", Magic)
	}
	ix := &Index{
		BlockSize:   binary.BigEndian.Uint32(b[8:]),
		ChunkBlocks: binary.BigEndian.Uint32(b[12:]),
		ImageSize:   binary.BigEndian.Uint64(b[16:]),
	}
	nblocks, nchunks, err := counts(ix.ImageSize, ix.BlockSize, ix.ChunkBlocks)
	if err != nil {
		return nil, err
	}
	if c := binary.BigEndian.Uint64(b[24:]); c != uint64(nchunks) {
		return bad("%d chunks, the image needs %d", c, nchunks)
	}
	if want := headerLen + nchunks*chunkEntryLen + nblocks*sha256.Size; len(b) != want {
		return bad("%d bytes, the image's %d blocks in %d chunks need %d", len(b), nblocks, nchunks, want)
	}
	ix.Chunks = make([]Chunk, nchunks)
	p := b[headerLen:]
	var off uint64
	for i := range ix.Chunks {
		size := binary.BigEndian.Uint64(p)
		_, n := ix.ChunkRange(i)
		if size == 0 || size > MaxStoredChunk(n) {
			return bad("chunk %d: %d stored bytes for %d image bytes", i, size, n)
		}
		ix.Chunks[i] = Chunk{Offset: off, Size: size}
		copy(ix.Chunks[i].Stored[:], p[8:chunkEntryLen])
		off += size
		p = p[chunkEntryLen:]
	}
	ix.Blocks = make([]Sum, nblocks)
	for i := range ix.Blocks {
		copy(ix.Blocks[i][:], p[i*sha256.Size:])
	}
	return ix, nil
}

// MaxStoredChunk bounds the stored bytes of a chunk of n image bytes:
// zstd's worst case (raw blocks: 3 bytes a 128 KiB block, a frame header,
// a checksum) with room to spare.
func MaxStoredChunk(n uint64) uint64 { return n + n/1024 + 64 }

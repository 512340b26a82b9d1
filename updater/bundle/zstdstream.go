package bundle

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// What zstd lockd decodes. The installer learns that a stream is broken
// while it writes the slot only if nothing checked it before; by then the
// update that was pending in the slot is gone. So checkFrames walks the
// stored stream's structure, without decompressing it, during the install's
// first pass (VerifyStored), and refuses before anything changes what the
// decoder below would refuse mid-write, bounded by the same constant.

// maxZstdWindow bounds the zstd window the installer accepts, and so its
// memory: the decoder keeps one window of history. 8 MiB is what `zstd
// -19` uses; bundles from `lockd bundle create` use encoderWindow (4 MiB).
// With it lockd's peak RSS during an install stays near 30 MiB, under the
// 48 MiB budget (docs/BENCHMARKS.md).
const maxZstdWindow = 8 << 20

// maxBlockSize is zstd's Block_Maximum_Size ceiling, 128 KiB.
const maxBlockSize = 128 << 10

// newDecoder is the installer's zstd decoder: synchronous (no goroutines,
// one block in flight), low-memory, and refusing any window above
// maxZstdWindow, as checkFrames does.
func newDecoder(r io.Reader) (*zstd.Decoder, error) {
	return zstd.NewReader(r,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(maxZstdWindow),
		zstd.WithDecoderMaxMemory(maxZstdWindow))
}

// checkFrames reads a stored zstd stream to its end and checks every
// frame's header, block headers and checksum field against what lockd's
// decoder can decode and against the manifest's image: a window within
// maxZstdWindow, no dictionary, no reserved block type, no block above
// maxBlockSize or the window, no frame cut short, and frame content sizes,
// where declared, adding up to want.Size (they are optional: `lockd bundle
// create` streams and declares none). It refuses what lockd's bundles
// never hold, though a decoder could skip it: skippable frames and bytes
// after the last frame. Structure errors wrap ErrImageCorrupt, a content
// size that disagrees ErrImageSize; an error reading r is returned as is.
func checkFrames(r io.Reader, want Image) error {
	_, err := walkFrames(bufio.NewReaderSize(r, readBufSize), want)
	return err
}

// checkChunkFrames is checkFrames for one chunk of an indexed image, of n
// image bytes, read through br (reused from chunk to chunk): every frame
// must declare its content size, so that what the chunk decodes to is
// known to be exactly n bytes before decoding.
func checkChunkFrames(br *bufio.Reader, n uint64) error {
	all, err := walkFrames(br, Image{Size: n})
	if err == nil && !all {
		err = fmt.Errorf("%w: a zstd frame of the chunk does not declare its content size", ErrImageCorrupt)
	}
	return err
}

// walkFrames is checkFrames; it also reports whether every frame
// declared its content size.
func walkFrames(br *bufio.Reader, want Image) (allDeclared bool, err error) {
	w := frameWalker{r: br}
	var declared uint64
	allDeclared = true
	for n := 1; ; n++ {
		if _, err := w.r.Peek(1); err == io.EOF && n > 1 {
			break
		}
		h, err := w.frame(n)
		if err != nil {
			return false, err
		}
		if !h.HasFCS {
			allDeclared = false
			continue
		}
		if h.FrameContentSize > want.Size-declared {
			return false, fmt.Errorf("%w: zstd frames 1 to %d declare more than the manifest's %d-byte image", ErrImageSize, n, want.Size)
		}
		declared += h.FrameContentSize
	}
	if allDeclared && declared != want.Size {
		return false, fmt.Errorf("%w: the zstd frames declare %d bytes, the manifest's image is %d", ErrImageSize, declared, want.Size)
	}
	return allDeclared, nil
}

// frameWalker reads a zstd stream frame by frame, counting its offset.
type frameWalker struct {
	r   *bufio.Reader
	off int64 // offset in the image section
}

// frame checks frame n, which starts at the reader's position, and reads
// past it.
func (w *frameWalker) frame(n int) (zstd.Header, error) {
	at := w.off
	corrupt := func(format string, a ...any) (zstd.Header, error) {
		return zstd.Header{}, fmt.Errorf("%w: zstd frame %d at offset %d of the image: %s",
			ErrImageCorrupt, n, at, fmt.Sprintf(format, a...))
	}
	// fail reports the image's end inside the frame as corruption and
	// passes a read error of the source on as it is.
	fail := func(where string, err error) (zstd.Header, error) {
		if errors.Is(err, errCutShort) {
			return corrupt("%s: %v", where, err)
		}
		return zstd.Header{}, err
	}
	b, err := w.r.Peek(zstd.HeaderMaxSize)
	if err != nil && err != io.EOF {
		return zstd.Header{}, err
	}
	var h zstd.Header
	err = h.Decode(b)
	noMagic := errors.Is(err, zstd.ErrMagicMismatch) || len(b) < 4 // too short for one
	switch {
	case noMagic && n == 1:
		return corrupt("the image does not start with a zstd frame (it starts %x)", b[:min(len(b), 4)])
	case noMagic:
		return corrupt("%x... after the last frame is no zstd frame", b[:min(len(b), 4)])
	case errors.Is(err, io.ErrUnexpectedEOF):
		return corrupt("the image ends inside the frame header")
	case err != nil:
		return corrupt("frame header: %v", err)
	case h.Skippable:
		return corrupt("a skippable frame (%d bytes); lockd bundles hold none", h.SkippableSize)
	case h.DictionaryID != 0:
		return corrupt("needs zstd dictionary %d; lockd decodes without dictionaries", h.DictionaryID)
	}
	window := h.WindowSize
	if h.SingleSegment {
		window = max(h.FrameContentSize, zstd.MinWindowSize) // the decoder's rule
	}
	if window > maxZstdWindow {
		return corrupt("its %s window is more than the %s lockd decodes with (its memory budget during installs)",
			sizeText(window), sizeText(maxZstdWindow))
	}
	if err := w.skip(h.HeaderSize); err != nil {
		return zstd.Header{}, err // Decode had the whole header: not the end
	}
	limit := min(window, maxBlockSize)
	for block := 1; ; block++ {
		var bh [4]byte
		if err := w.read(bh[:3]); err != nil {
			return fail(fmt.Sprintf("block %d header", block), err)
		}
		v := binary.LittleEndian.Uint32(bh[:])
		last, kind, size := v&1 != 0, (v>>1)&3, uint64(v>>3)
		payload := size
		switch kind {
		case 1: // RLE: one byte, repeated size times
			payload = 1
		case 2:
			if size < 2 {
				return corrupt("block %d: a compressed block of %d bytes", block, size)
			}
		case 3:
			return corrupt("block %d has the reserved block type", block)
		}
		if size > limit {
			return corrupt("block %d of %d bytes is larger than the frame's %d-byte block maximum", block, size, limit)
		}
		if err := w.skip(int(payload)); err != nil {
			return fail(fmt.Sprintf("block %d", block), err)
		}
		if last {
			break
		}
	}
	if h.HasCheckSum {
		if err := w.skip(4); err != nil {
			return fail("checksum", err)
		}
	}
	return h, nil
}

// read reads exactly len(b) bytes; the end of the image is an error.
func (w *frameWalker) read(b []byte) error {
	n, err := io.ReadFull(w.r, b)
	w.off += int64(n)
	return endError(err)
}

// skip reads past n bytes; the end of the image is an error.
func (w *frameWalker) skip(n int) error {
	got, err := w.r.Discard(n)
	w.off += int64(got)
	return endError(err)
}

// errCutShort is the end of the image inside a frame.
var errCutShort = errors.New("the frame is cut short by the end of the image")

// endError turns the end of the image into errCutShort.
func endError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errCutShort
	}
	return err
}

// sizeText writes a power-of-two size the way zstd windows are named.
func sizeText(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

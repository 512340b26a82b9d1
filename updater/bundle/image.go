package bundle

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"

	"github.com/klauspost/compress/zstd"
)

// encoderWindow is the zstd window of `lockd bundle create`, within
// maxZstdWindow (zstdstream.go), what units decode.
const (
	encoderWindow = 4 << 20
	readBufSize   = 64 << 10
)

// imageReader streams the decompressed image, hashing it; see Reader.Image.
type imageReader struct {
	src   *sectionReader // the stored bytes of the IMAG section
	after io.Reader      // what follows the section: must be nothing
	rd    io.Reader      // decompressed bytes
	dec   *zstd.Decoder  // nil for an uncompressed image
	hash  hash.Hash
	want  Image
	n     uint64 // decompressed bytes so far
	err   error  // sticky: once set, every Read returns it
}

func newImageReader(r io.Reader, want Image) (*imageReader, error) {
	ir := &imageReader{
		src:   &sectionReader{r: r, left: want.StoredSize, size: want.StoredSize},
		after: r,
		hash:  sha256.New(),
		want:  want,
	}
	ir.rd = ir.src
	if want.Compression == CompressionZstd {
		ir.src.hash = sha256.New() // uncompressed: the stored bytes are the image
		dec, err := newDecoder(bufio.NewReaderSize(ir.src, readBufSize))
		if err != nil {
			return nil, fmt.Errorf("bundle: zstd decoder: %w", err)
		}
		ir.dec, ir.rd = dec, dec
	}
	return ir, nil
}

// Read returns decompressed image bytes. It returns io.EOF only once the
// whole image has been read and its size, sha256 and the end of the bundle
// have been checked; otherwise it returns an error.
func (ir *imageReader) Read(p []byte) (int, error) {
	if ir.err != nil {
		return 0, ir.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	// Never hand out more than the manifest promised: a caller writing to
	// a slot must not be made to write past the size Check allowed.
	var probe [1]byte
	buf, probing := p, false
	if left := ir.want.Size - ir.n; left == 0 {
		buf, probing = probe[:], true // only to see whether the stream ends here
	} else if uint64(len(buf)) > left {
		buf = buf[:left]
	}
	n, err := ir.rd.Read(buf)
	if probing && n > 0 {
		n, err = 0, fmt.Errorf("%w: image is longer than the manifest's %d bytes", ErrImageSize, ir.want.Size)
	} else {
		ir.hash.Write(buf[:n])
		ir.n += uint64(n)
		if err == io.EOF {
			err = ir.finish()
		} else if err != nil {
			err = ir.readError(err)
		}
	}
	if err != nil {
		ir.err = err
		ir.close()
	}
	return n, err
}

// finish runs at the end of the decompressed stream.
func (ir *imageReader) finish() error {
	if ir.n != ir.want.Size {
		return fmt.Errorf("%w: image is %d bytes, manifest says %d", ErrImageSize, ir.n, ir.want.Size)
	}
	if ir.src.left != 0 {
		return fmt.Errorf("%w: compressed stream ended %d bytes before the end of the image section", ErrImageCorrupt, ir.src.left)
	}
	if ir.src.hash != nil {
		if got := hex.EncodeToString(ir.src.hash.Sum(nil)); got != ir.want.StoredSHA256 {
			return fmt.Errorf("%w: stored image sha256 %s, manifest says %s", ErrImageHash, got, ir.want.StoredSHA256)
		}
	}
	if got := hex.EncodeToString(ir.hash.Sum(nil)); got != ir.want.SHA256 {
		return fmt.Errorf("%w: image sha256 %s, manifest says %s", ErrImageHash, got, ir.want.SHA256)
	}
	var b [1]byte
	switch _, err := io.ReadFull(ir.after, b[:]); {
	case err == nil:
		return fmt.Errorf("%w: the bundle goes on after its %d-byte image section", ErrTrailingData, ir.want.StoredSize)
	case err != io.EOF:
		return fmt.Errorf("bundle: read after image: %w", err)
	}
	return io.EOF
}

// readError classifies an error from the decompressor or the source.
func (ir *imageReader) readError(err error) error {
	switch {
	case ir.src.err != nil: // the source failed or ended early; report that
		return ir.src.err
	case ir.dec != nil:
		return fmt.Errorf("%w: zstd: %w", ErrImageCorrupt, err)
	}
	return fmt.Errorf("bundle: read image: %w", err)
}

func (ir *imageReader) close() {
	if ir.dec != nil {
		ir.dec.Close()
		ir.dec = nil
	}
}

// sectionReader reads exactly size bytes from r; a short source is
// ErrTruncated, never a clean io.EOF.
type sectionReader struct {
	r          io.Reader
	hash       hash.Hash // if not nil, of every byte read
	left, size uint64
	err        error // first error from r other than the section's end
}

func (s *sectionReader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.left == 0 {
		return 0, io.EOF
	}
	if uint64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.r.Read(p)
	s.left -= uint64(n)
	if s.hash != nil {
		s.hash.Write(p[:n])
	}
	switch {
	case err == io.EOF && s.left > 0:
		s.err = fmt.Errorf("%w: image section ends after %d of %d bytes", ErrTruncated, s.size-s.left, s.size)
	case err != nil && err != io.EOF:
		s.err = fmt.Errorf("bundle: read image: %w", err)
	}
	if s.err != nil {
		return n, s.err
	}
	if s.left == 0 {
		return n, io.EOF
	}
	return n, nil
}

package bundle

import (
	"cmp"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"lockd.dev/lockd/updater/blockindex"
	"strings"
)

// Reader reads one bundle front to back. Open has already verified the
// signed manifest; the image is verified as it streams through Image.
// A Reader is not safe for concurrent use.
type Reader struct {
	m        Manifest
	manifest []byte
	keyID    KeyID
	index    *blockindex.Index // nil in FormatVersion bundles
	imageOff int64             // where the image bytes start in the bundle
	img      *imageReader
}

// Open reads the header, the manifest and its signature from r, and
// verifies the signature against keys before it parses the manifest. It
// reads no byte of the image: a refused bundle costs its first few KiB.
// Errors wrap ErrBadMagic, ErrUnsupportedFormat, ErrTruncated,
// ErrSectionOrder, ErrMalformed, ErrUnknownKey, ErrBadSignature or
// ErrBadManifest. Open does not apply the install policy; see Check.
//
// r is read with exact-size reads only; the caller owns and closes it.
func Open(r io.Reader, keys Keyring) (*Reader, error) {
	h, err := readHead(r)
	if err != nil {
		return nil, err
	}
	pub, ok := keys.lookup(h.keyID)
	if !ok {
		return nil, fmt.Errorf("%w: key id %s is not among the %d trusted (%s)", ErrUnknownKey, h.keyID, keys.Len(), idList(keys))
	}
	if !ed25519.Verify(pub, signedMessage(h.manifest), h.sig) {
		return nil, fmt.Errorf("%w: manifest does not verify with key %s", ErrBadSignature, h.keyID)
	}
	m, err := ParseManifest(h.manifest)
	if err != nil {
		return nil, err
	}
	raw, err := readSections(r, h, m)
	if err != nil {
		return nil, err
	}
	var index *blockindex.Index
	if raw != nil {
		if index, err = parseIndex(raw, m); err != nil {
			return nil, err
		}
	}
	img, err := newImageReader(r, m.Image)
	if err != nil {
		return nil, err
	}
	return &Reader{m: m, manifest: h.manifest, keyID: h.keyID, index: index, imageOff: h.offset, img: img}, nil
}

// parseIndex checks the BIDX section against the signed manifest (its
// sha256 before a byte of it is parsed) and its geometry against the
// image: the same image size, chunks that fill the image section exactly.
func parseIndex(raw []byte, m Manifest) (*blockindex.Index, error) {
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != m.Index.SHA256 {
		return nil, fmt.Errorf("%w: index sha256 %x, manifest says %s", ErrMalformed, sum, m.Index.SHA256)
	}
	ix, err := blockindex.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if ix.ImageSize != m.Image.Size {
		return nil, fmt.Errorf("%w: the index is of a %d-byte image, the manifest's is %d", ErrMalformed, ix.ImageSize, m.Image.Size)
	}
	if ix.StoredSize() != m.Image.StoredSize {
		return nil, fmt.Errorf("%w: the index's chunks hold %d bytes, the image section %d", ErrMalformed, ix.StoredSize(), m.Image.StoredSize)
	}
	return ix, nil
}

// Index returns the verified block-hash index, nil for a bundle of
// FormatVersion (without one).
func (r *Reader) Index() *blockindex.Index { return r.index }

// ImageOffset returns where the image section's bytes start in the
// bundle: chunk offsets of the index count from there.
func (r *Reader) ImageOffset() int64 { return r.imageOff }

// Manifest returns the verified manifest.
func (r *Reader) Manifest() Manifest { return r.m }

// ManifestBytes returns manifest.json exactly as signed.
func (r *Reader) ManifestBytes() []byte { return append([]byte(nil), r.manifest...) }

// KeyID returns the id of the key that signed the manifest.
func (r *Reader) KeyID() KeyID { return r.keyID }

// Image returns the decompressed image, in at most Manifest().Image.Size
// bytes, read with memory bounded independently of the image size. Its Read
// returns io.EOF only after the size, the sha256 and the absence of trailing
// data have all been checked; any mismatch is an error from Read instead
// (ErrImageSize, ErrImageHash, ErrImageCorrupt, ErrTruncated,
// ErrTrailingData). Bytes read before that are unverified: a caller that
// writes them to a slot must not use the slot unless Read ended in io.EOF.
// Every call returns the same reader.
func (r *Reader) Image() io.Reader { return r.img }

// Close releases the decompressor. It does not close the source.
func (r *Reader) Close() error {
	r.img.close()
	return nil
}

func idList(k Keyring) string {
	ids := k.IDs()
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	return strings.Join(s, ", ")
}

// VerifyStored reads the rest of the image section as stored, without
// decompressing it, and checks it against the signed manifest: its length,
// its sha256 (image.stored_sha256) and that nothing follows it; a zstd
// image's frames are walked on the way (checkFrames: window, dictionary,
// blocks, declared content size), so that a stream the decoder would
// refuse half-way through the slot is refused now; an indexed image is
// walked chunk by chunk, each against the index's sha256 too. It is the cheap first
// pass of an install that must refuse a corrupt bundle before one byte
// reaches the slot; the install then reads the bundle again with a fresh
// Open and Image. It must be called before any Image read.
//
// Of several faults it reports the most basic: a short or unreadable
// file, then bytes that are not what was signed (ErrImageHash), then a
// signed stream lockd cannot decode, then data after the image.
func (r *Reader) VerifyStored() error {
	if r.img.n != 0 || r.img.err != nil {
		return fmt.Errorf("bundle: VerifyStored after Image reads")
	}
	src := r.img.src
	h := sha256.New()
	tee := io.TeeReader(src, h)
	var framesErr error
	switch {
	case r.index != nil:
		framesErr = checkChunkStream(tee, r.index)
	case r.m.Image.Compression == CompressionZstd:
		framesErr = checkFrames(tee, r.m.Image)
	}
	// The rest of the section, for the hash (checkFrames stops early on a
	// refusal).
	if _, err := io.Copy(io.Discard, tee); err != nil || src.err != nil {
		r.img.err = cmp.Or(src.err, err)
		return r.img.err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != r.m.Image.StoredSHA256 {
		r.img.err = fmt.Errorf("%w: stored image sha256 %s, manifest says %s", ErrImageHash, got, r.m.Image.StoredSHA256)
		return r.img.err
	}
	if framesErr != nil {
		r.img.err = framesErr
		return r.img.err
	}
	var b [1]byte
	switch _, err := io.ReadFull(r.img.after, b[:]); {
	case err == nil:
		r.img.err = fmt.Errorf("%w: the bundle goes on after its %d-byte image section", ErrTrailingData, r.m.Image.StoredSize)
	case err != io.EOF:
		r.img.err = fmt.Errorf("bundle: read after image: %w", err)
	default:
		r.img.err = errors.New("bundle: image already consumed by VerifyStored")
		return nil
	}
	return r.img.err
}

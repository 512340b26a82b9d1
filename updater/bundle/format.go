package bundle

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// magic starts every bundle. Like PNG's, its high-bit first byte and CR LF
// catch files mangled by 7-bit or text-mode transfers.
const magic = "\x89lockd\r\n"

// signatureDomain prefixes the signed message so that a signature made for
// anything else can never pass as a bundle signature.
const signatureDomain = "lockd-bundle-v1\x00"

const (
	tagManifest  = "MNFT"
	tagSignature = "SIGN"
	tagIndex     = "BIDX"
	tagImage     = "IMAG"

	headerLen     = len(magic) + 2
	sectionHdrLen = 4 + 8
	sigSectionLen = len(KeyID{}) + ed25519.SignatureSize
)

// head is everything before the image bytes, as read from a bundle; none
// of it is trusted until verify succeeds.
type head struct {
	version  uint16
	manifest []byte
	keyID    KeyID
	sig      []byte
	offset   int64 // where the next section starts
}

// signedMessage is what the signature covers.
func signedMessage(manifest []byte) []byte {
	msg := make([]byte, 0, len(signatureDomain)+len(manifest))
	return append(append(msg, signatureDomain...), manifest...)
}

// readHead reads the header, the manifest and the signature, using exact
// reads so that not one byte after them is consumed.
func readHead(r io.Reader) (*head, error) {
	var hdr [headerLen]byte
	if err := readFull(r, hdr[:], "header", 0); err != nil {
		return nil, err
	}
	if string(hdr[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: starts with %x", ErrBadMagic, hdr[:len(magic)])
	}
	v := binary.BigEndian.Uint16(hdr[len(magic):])
	if v != FormatVersion && v != FormatIndexed {
		return nil, fmt.Errorf("%w: %d (this lockd reads %d and %d)", ErrUnsupportedFormat, v, FormatVersion, FormatIndexed)
	}
	h := &head{version: v, offset: int64(headerLen)}
	n, err := readSectionHeader(r, tagManifest, h.offset)
	if err != nil {
		return nil, err
	}
	if n == 0 || n > MaxManifestSize {
		return nil, fmt.Errorf("%w: manifest length %d at offset %d, want 1..%d", ErrMalformed, n, h.offset+4, MaxManifestSize)
	}
	h.offset += sectionHdrLen
	h.manifest = make([]byte, n)
	if err := readFull(r, h.manifest, "manifest", h.offset); err != nil {
		return nil, err
	}
	h.offset += int64(n)
	if n, err = readSectionHeader(r, tagSignature, h.offset); err != nil {
		return nil, err
	}
	if n != uint64(sigSectionLen) {
		return nil, fmt.Errorf("%w: signature section length %d at offset %d, want %d", ErrMalformed, n, h.offset+4, sigSectionLen)
	}
	h.offset += sectionHdrLen
	sig := make([]byte, sigSectionLen)
	if err := readFull(r, sig, "signature", h.offset); err != nil {
		return nil, err
	}
	h.offset += int64(sigSectionLen)
	copy(h.keyID[:], sig)
	h.sig = sig[len(KeyID{}):]
	return h, nil
}

// readSectionHeader reads a section tag and length, wanting tag.
func readSectionHeader(r io.Reader, tag string, off int64) (uint64, error) {
	var b [sectionHdrLen]byte
	if err := readFull(r, b[:], tag+" section header", off); err != nil {
		return 0, err
	}
	if got := string(b[:4]); got != tag {
		return 0, fmt.Errorf("%w: want %s at offset %d, found %q", ErrSectionOrder, tag, off, got)
	}
	return binary.BigEndian.Uint64(b[4:]), nil
}

// readFull reads exactly len(b) bytes of what, reporting a short file as
// ErrTruncated.
func readFull(r io.Reader, b []byte, what string, off int64) error {
	n, err := io.ReadFull(r, b)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: in %s at offset %d (%d of %d bytes)", ErrTruncated, what, off, n, len(b))
	}
	return fmt.Errorf("bundle: read %s at offset %d: %w", what, off, err)
}

// appendSectionHeader appends a section tag and length to b.
func appendSectionHeader(b []byte, tag string, n uint64) []byte {
	return binary.BigEndian.AppendUint64(append(b, tag...), n)
}

// encodeHead returns every byte of a bundle before the image bytes; index
// is the BIDX section of a FormatIndexed bundle, nil for FormatVersion.
func encodeHead(manifest []byte, priv ed25519.PrivateKey, index []byte, imageSize uint64) []byte {
	b := make([]byte, 0, headerLen+4*sectionHdrLen+len(manifest)+sigSectionLen+len(index))
	version := uint16(FormatVersion)
	if index != nil {
		version = FormatIndexed
	}
	b = binary.BigEndian.AppendUint16(append(b, magic...), version)
	b = append(appendSectionHeader(b, tagManifest, uint64(len(manifest))), manifest...)
	b = appendSectionHeader(b, tagSignature, uint64(sigSectionLen))
	id := KeyIDOf(priv.Public().(ed25519.PublicKey))
	b = append(append(b, id[:]...), ed25519.Sign(priv, signedMessage(manifest))...)
	if index != nil {
		b = append(appendSectionHeader(b, tagIndex, uint64(len(index))), index...)
	}
	return appendSectionHeader(b, tagImage, imageSize)
}

// readSections reads what follows the signature up to the image bytes,
// as the manifest m (whose format must be h's) describes it: the BIDX
// section of a FormatIndexed bundle, exactly m.Index.Size bytes, then the
// IMAG section header, whose length must be m.Image.StoredSize. It
// returns the index bytes (nil without one), unverified, and advances
// h.offset to the first image byte.
func readSections(r io.Reader, h *head, m Manifest) ([]byte, error) {
	if uint16(m.Format) != h.version {
		return nil, fmt.Errorf("%w: header says format %d, the signed manifest %d", ErrMalformed, h.version, m.Format)
	}
	var index []byte
	if m.Index != nil {
		n, err := readSectionHeader(r, tagIndex, h.offset)
		if err != nil {
			return nil, err
		}
		if n != m.Index.Size {
			return nil, fmt.Errorf("%w: index section length %d != manifest index.size %d", ErrMalformed, n, m.Index.Size)
		}
		h.offset += sectionHdrLen
		index = make([]byte, n) // bounded: Validate holds index.size to MaxIndexSize
		if err := readFull(r, index, "index", h.offset); err != nil {
			return nil, err
		}
		h.offset += int64(n)
	}
	n, err := readSectionHeader(r, tagImage, h.offset)
	if err != nil {
		return nil, err
	}
	if n != m.Image.StoredSize {
		return nil, fmt.Errorf("%w: image section length %d != manifest image.stored_size %d", ErrMalformed, n, m.Image.StoredSize)
	}
	h.offset += sectionHdrLen
	return index, nil
}

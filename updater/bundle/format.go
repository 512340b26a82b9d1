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
	tagImage     = "IMAG"

	headerLen     = len(magic) + 2
	sectionHdrLen = 4 + 8
	sigSectionLen = len(KeyID{}) + ed25519.SignatureSize
)

// head is everything before the image bytes, as read from a bundle; none
// of it is trusted until verify succeeds.
type head struct {
	manifest  []byte
	keyID     KeyID
	sig       []byte
	imageSize uint64 // length of the IMAG section
	offset    int64  // where the image bytes start
}

// signedMessage is what the signature covers.
func signedMessage(manifest []byte) []byte {
	msg := make([]byte, 0, len(signatureDomain)+len(manifest))
	return append(append(msg, signatureDomain...), manifest...)
}

// readHead reads the header and the sections up to the image bytes, using
// exact reads so that not one byte of the image is consumed.
func readHead(r io.Reader) (*head, error) {
	var hdr [headerLen]byte
	if err := readFull(r, hdr[:], "header", 0); err != nil {
		return nil, err
	}
	if string(hdr[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: starts with %x", ErrBadMagic, hdr[:len(magic)])
	}
	if v := binary.BigEndian.Uint16(hdr[len(magic):]); v != FormatVersion {
		return nil, fmt.Errorf("%w: %d (this lockd reads %d)", ErrUnsupportedFormat, v, FormatVersion)
	}
	h := &head{offset: int64(headerLen)}
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
	if h.imageSize, err = readSectionHeader(r, tagImage, h.offset); err != nil {
		return nil, err
	}
	h.offset += sectionHdrLen
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

// encodeHead returns every byte of a bundle before the image bytes.
func encodeHead(manifest []byte, priv ed25519.PrivateKey, imageSize uint64) []byte {
	b := make([]byte, 0, headerLen+3*sectionHdrLen+len(manifest)+sigSectionLen)
	b = binary.BigEndian.AppendUint16(append(b, magic...), FormatVersion)
	b = append(appendSectionHeader(b, tagManifest, uint64(len(manifest))), manifest...)
	b = appendSectionHeader(b, tagSignature, uint64(sigSectionLen))
	id := KeyIDOf(priv.Public().(ed25519.PublicKey))
	b = append(append(b, id[:]...), ed25519.Sign(priv, signedMessage(manifest))...)
	return appendSectionHeader(b, tagImage, imageSize)
}

package bundle

import (
	"encoding/json"
	"fmt"
	"lockd.dev/lockd/updater/blockindex"
	"strings"
	"time"
	"unicode/utf8"
)

// FormatVersion is the bundle format of a bundle without a block-hash
// index, both in the file header and in the manifest's "format" field.
// FormatIndexed (2) is one with an index: a BIDX section between the
// signature and the image, described by the manifest's "index", and an
// image in chunks (updater/blockindex). This package reads and writes both.
const (
	FormatVersion = 1
	FormatIndexed = 2
)

// MaxIndexSize bounds the BIDX section: the largest index blockindex
// accepts (its block and chunk bounds).
const MaxIndexSize = 32 + blockindex.MaxChunks*(8+32) + blockindex.MaxBlocks*32

// MaxManifestSize bounds manifest.json so that a hostile bundle cannot make
// the reader allocate more before the signature is checked.
const MaxManifestSize = 64 << 10

const (
	maxCompatibleLen  = 128
	maxDescriptionLen = 4096
)

// Compression names allowed in Image.Compression.
const (
	CompressionNone = "none"
	CompressionZstd = "zstd"
)

// Manifest is the signed description of a bundle. Every field but
// Description is required; unknown, duplicate, null or differently-cased
// keys are rejected.
type Manifest struct {
	Format          int    `json:"format"`           // FormatVersion
	Compatible      string `json:"compatible"`       // hardware the image is built for
	Version         string `json:"version"`          // semantic version of the image
	SecurityVersion uint64 `json:"security_version"` // monotonic; see Policy.MinSecurityVersion
	Image           Image  `json:"image"`
	// Index is the block-hash index's section, in FormatIndexed only.
	Index       *IndexRef `json:"index,omitempty"`
	Created     time.Time `json:"created"` // RFC 3339
	Description string    `json:"description,omitempty"`
}

// Image describes the root file-system image that follows the signature.
type Image struct {
	Size        uint64 `json:"size"`        // bytes after decompression
	SHA256      string `json:"sha256"`      // lowercase hex of the decompressed bytes
	Compression string `json:"compression"` // CompressionNone or CompressionZstd
	StoredSize  uint64 `json:"stored_size"` // bytes in the bundle
	// StoredSHA256 is the sha256 of the bytes in the bundle; for
	// CompressionNone it equals SHA256. zstd frames have bits a decoder
	// ignores (and other ways to encode the same bytes), so without it a
	// flipped bit could pass; with it, every byte of a bundle is signed.
	StoredSHA256 string `json:"stored_sha256"`
}

// IndexRef binds the BIDX section to the signed manifest.
type IndexRef struct {
	Size   uint64 `json:"size"`   // bytes of the section
	SHA256 string `json:"sha256"` // lowercase hex of them
}

// ParseManifest decodes and validates manifest.json strictly.
func ParseManifest(data []byte) (Manifest, error) {
	var m Manifest
	if len(data) > MaxManifestSize {
		return m, fmt.Errorf("%w: %d bytes, more than %d", ErrBadManifest, len(data), MaxManifestSize)
	}
	if !utf8.Valid(data) {
		return m, fmt.Errorf("%w: not valid UTF-8", ErrBadManifest)
	}
	if err := checkStrict(data); err != nil {
		return m, fmt.Errorf("%w: %w", ErrBadManifest, err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("%w: %w", ErrBadManifest, err)
	}
	if err := m.Validate(); err != nil {
		return m, err
	}
	return m, nil
}

// Marshal returns the manifest as indented JSON with a final newline, the
// form that create signs and inspect prints.
func (m Manifest) Marshal() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("bundle: marshal manifest: %w", err)
	}
	b = append(b, '\n')
	if len(b) > MaxManifestSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrBadManifest, len(b), MaxManifestSize)
	}
	return b, nil
}

// Validate checks the values of every field; errors wrap ErrBadManifest.
func (m Manifest) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrBadManifest, fmt.Sprintf(format, a...))
	}
	switch {
	case m.Format != FormatVersion && m.Format != FormatIndexed:
		return bad("format %d, want %d or %d", m.Format, FormatVersion, FormatIndexed)
	case m.Format == FormatVersion && m.Index != nil:
		return bad("an index needs format %d", FormatIndexed)
	case m.Format == FormatIndexed && m.Index == nil:
		return bad("format %d needs an index", FormatIndexed)
	case m.Index != nil && (m.Index.Size == 0 || m.Index.Size > MaxIndexSize):
		return bad("index.size %d, want 1..%d", m.Index.Size, MaxIndexSize)
	case m.Index != nil && !isLowerHex(m.Index.SHA256, 64):
		return bad("index.sha256 %.80q is not 64 lowercase hex digits", m.Index.SHA256)
	case m.Index != nil && m.Image.Compression != CompressionZstd:
		return bad("an index needs a zstd image")
	}
	if err := validCompatible(m.Compatible); err != nil {
		return bad("compatible: %v", err)
	}
	if _, err := ParseVersion(m.Version); err != nil {
		return bad("%s", strings.TrimPrefix(err.Error(), "bundle: "))
	}
	if m.Created.IsZero() {
		return bad("created is missing")
	}
	if len(m.Description) > maxDescriptionLen {
		return bad("description longer than %d bytes", maxDescriptionLen)
	}
	for _, r := range m.Description {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			return bad("description contains control character %U", r)
		}
	}
	img := m.Image
	if !isLowerHex(img.SHA256, 64) {
		return bad("image.sha256 %.80q is not 64 lowercase hex digits", img.SHA256)
	}
	if !isLowerHex(img.StoredSHA256, 64) {
		return bad("image.stored_sha256 %.80q is not 64 lowercase hex digits", img.StoredSHA256)
	}
	if img.Size == 0 || img.StoredSize == 0 {
		return bad("image.size and image.stored_size must be positive")
	}
	if img.Size > 1<<62 || img.StoredSize > 1<<62 {
		return bad("image sizes must be at most 2^62")
	}
	switch img.Compression {
	case CompressionNone:
		if img.StoredSize != img.Size || img.StoredSHA256 != img.SHA256 {
			return bad("an uncompressed image must have stored_size == size and stored_sha256 == sha256")
		}
	case CompressionZstd:
	default:
		return bad("image.compression %.40q, want %q or %q", img.Compression, CompressionNone, CompressionZstd)
	}
	return nil
}

// validCompatible allows printable ASCII without spaces, so that a
// compatible string is safe to show in any message.
func validCompatible(s string) error {
	if s == "" || len(s) > maxCompatibleLen {
		return fmt.Errorf("length must be 1..%d", maxCompatibleLen)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return fmt.Errorf("%q: only printable ASCII without spaces", s)
		}
	}
	return nil
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'f') {
			return false
		}
	}
	return true
}

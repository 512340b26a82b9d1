package bundle

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"
)

// testKey returns the n-th deterministic test key. Test keys live only in
// test code; no key file is ever committed.
func testKey(n int) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte(fmt.Sprintf("lockd bundle test key %d", n)))
	return ed25519.NewKeyFromSeed(seed[:])
}

func pubOf(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

// testManifest is a valid manifest but for its Image, which build fills in.
func testManifest() Manifest {
	return Manifest{
		Format:          FormatVersion,
		Compatible:      "acme,lock-rev2",
		Version:         "2.1.0",
		SecurityVersion: 3,
		Created:         time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC),
		Description:     "test image",
	}
}

// testImage returns n bytes that compress somewhat, like a file system:
// runs of text interleaved with random blocks.
func testImage(n int, seed uint64) []byte {
	b := make([]byte, 0, n)
	r := rand.New(rand.NewPCG(seed, 1))
	for len(b) < n {
		if r.IntN(3) == 0 {
			for i := 0; i < 512; i++ {
				b = append(b, byte(r.Uint32()))
			}
		} else {
			b = fmt.Appendf(b, "file %d: lockd root file system block %d\n", r.IntN(1000), len(b))
		}
	}
	return b[:n]
}

// build returns a bundle of image signed with priv.
func build(t testing.TB, priv ed25519.PrivateKey, m Manifest, image []byte, compression string) []byte {
	t.Helper()
	var stored bytes.Buffer
	img, err := EncodeImage(context.Background(), &stored, bytes.NewReader(image), compression)
	if err != nil {
		t.Fatal(err)
	}
	if compression == CompressionNone {
		stored.Reset()
		stored.Write(image)
	}
	m.Image = img
	var out bytes.Buffer
	if err := Write(context.Background(), &out, priv, m, &stored); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// signStored returns a bundle of image stored as the zstd stream stored,
// whatever that holds, signed with test key 1: for streams lockd's encoder
// does not write.
func signStored(t testing.TB, image, stored []byte) []byte {
	t.Helper()
	sum, ssum := sha256.Sum256(image), sha256.Sum256(stored)
	m := testManifest()
	m.Image = Image{Size: uint64(len(image)), SHA256: hex.EncodeToString(sum[:]), Compression: CompressionZstd,
		StoredSize: uint64(len(stored)), StoredSHA256: hex.EncodeToString(ssum[:])}
	var out bytes.Buffer
	if err := Write(context.Background(), &out, testKey(1), m, bytes.NewReader(stored)); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// readBundle opens b and reads the whole image.
func readBundle(b []byte, keys Keyring) (Manifest, []byte, error) {
	r, err := Open(bytes.NewReader(b), keys)
	if err != nil {
		return Manifest{}, nil, err
	}
	defer r.Close()
	img, err := io.ReadAll(r.Image())
	return r.Manifest(), img, err
}

// layout gives the offsets of a bundle's parts.
type layout struct {
	manifestLen                            int
	mnftHdr, manifest, signHdr, keyID, sig int
	imagHdr, image, end                    int
}

func layoutOf(b []byte) layout {
	n := int(binary.BigEndian.Uint64(b[14:22]))
	l := layout{manifestLen: n, mnftHdr: 10, manifest: 22}
	l.signHdr = l.manifest + n
	l.keyID = l.signHdr + sectionHdrLen
	l.sig = l.keyID + 8
	l.imagHdr = l.sig + ed25519.SignatureSize
	l.image = l.imagHdr + sectionHdrLen
	l.end = len(b)
	return l
}

// allSentinels are the errors a refused bundle may wrap.
var allSentinels = []error{
	ErrBadMagic, ErrUnsupportedFormat, ErrTruncated, ErrSectionOrder, ErrMalformed,
	ErrTrailingData, ErrUnknownKey, ErrBadSignature, ErrBadManifest,
	ErrImageSize, ErrImageHash, ErrImageCorrupt,
}

// isAny reports whether err wraps one of targets.
func isAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

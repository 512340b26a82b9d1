package bundle

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// corruptFixtures returns a small raw and a small zstd bundle.
func corruptFixtures(t *testing.T) map[string][]byte {
	priv := testKey(1)
	image := testImage(6<<10, 4)
	return map[string][]byte{
		CompressionNone: build(t, priv, testManifest(), image, CompressionNone),
		CompressionZstd: build(t, priv, testManifest(), image, CompressionZstd),
	}
}

func TestTruncated(t *testing.T) {
	keys := NewKeyring(pubOf(testKey(1)))
	for c, b := range corruptFixtures(t) {
		l := layoutOf(b)
		cuts := []int{0, 1, 8, 9, l.mnftHdr, l.mnftHdr + 4, l.manifest, l.signHdr - 1,
			l.signHdr, l.keyID, l.sig, l.imagHdr, l.image, l.image + 1, l.end - 1}
		r := rand.New(rand.NewPCG(uint64(len(b)), 2))
		for range 100 {
			cuts = append(cuts, r.IntN(len(b)))
		}
		for _, cut := range cuts {
			_, _, err := readBundle(b[:cut], keys)
			if !errors.Is(err, ErrTruncated) {
				t.Errorf("%s cut at %d of %d: got %v, want ErrTruncated", c, cut, len(b), err)
			}
		}
	}
}

func TestPadded(t *testing.T) {
	keys := NewKeyring(pubOf(testKey(1)))
	for c, b := range corruptFixtures(t) {
		for _, pad := range [][]byte{{0}, []byte("\n"), make([]byte, 4096), b} {
			_, _, err := readBundle(append(bytes.Clone(b), pad...), keys)
			if !errors.Is(err, ErrTrailingData) {
				t.Errorf("%s + %d bytes: got %v, want ErrTrailingData", c, len(pad), err)
			}
		}
		l := layoutOf(b)
		for _, at := range []int{l.signHdr, l.imagHdr} {
			padded := append(append(bytes.Clone(b[:at]), make([]byte, 8)...), b[at:]...)
			if _, _, err := readBundle(padded, keys); !errors.Is(err, ErrSectionOrder) {
				t.Errorf("%s padded at %d: got %v, want ErrSectionOrder", c, at, err)
			}
		}
		if _, _, err := readBundle(append([]byte{0}, b...), keys); !errors.Is(err, ErrBadMagic) {
			t.Errorf("%s padded in front: got %v, want ErrBadMagic", c, err)
		}
	}
}

func TestReordered(t *testing.T) {
	keys := NewKeyring(pubOf(testKey(1)))
	for c, b := range corruptFixtures(t) {
		l := layoutOf(b)
		hdr, mnft, sign, imag := b[:l.mnftHdr], b[l.mnftHdr:l.signHdr], b[l.signHdr:l.imagHdr], b[l.imagHdr:]
		for name, parts := range map[string][][]byte{
			"sign,mnft,imag": {hdr, sign, mnft, imag},
			"mnft,imag,sign": {hdr, mnft, imag, sign},
			"imag,mnft,sign": {hdr, imag, mnft, sign},
			"mnft,mnft,sign": {hdr, mnft, mnft, sign, imag},
		} {
			_, _, err := readBundle(bytes.Join(parts, nil), keys)
			if !errors.Is(err, ErrSectionOrder) {
				t.Errorf("%s %s: got %v, want ErrSectionOrder", c, name, err)
			}
		}
	}
}

// TestBitFlips flips every bit of every region of small bundles and wants
// each refused with the error that names the region.
func TestBitFlips(t *testing.T) {
	keys := NewKeyring(pubOf(testKey(1)))
	for c, b := range corruptFixtures(t) {
		l := layoutOf(b)
		imageErrs := []error{ErrImageHash}
		if c == CompressionZstd {
			// A flip in a zstd frame may break the frame, change the
			// decoded length or only the decoded bytes.
			imageErrs = []error{ErrImageCorrupt, ErrImageSize, ErrImageHash, ErrTruncated}
		}
		regions := []struct {
			name       string
			start, end int
			want       []error
		}{
			{"magic", 0, 8, []error{ErrBadMagic}},
			{"format version", 8, 10, []error{ErrUnsupportedFormat}},
			{"MNFT tag", l.mnftHdr, l.mnftHdr + 4, []error{ErrSectionOrder}},
			// A wrong manifest length misplaces everything after it.
			{"MNFT length", l.mnftHdr + 4, l.manifest, []error{ErrMalformed, ErrSectionOrder, ErrTruncated}},
			{"manifest", l.manifest, l.signHdr, []error{ErrBadSignature}},
			{"SIGN tag", l.signHdr, l.signHdr + 4, []error{ErrSectionOrder}},
			{"SIGN length", l.signHdr + 4, l.keyID, []error{ErrMalformed}},
			{"key id", l.keyID, l.sig, []error{ErrUnknownKey}},
			{"signature", l.sig, l.imagHdr, []error{ErrBadSignature}},
			{"IMAG tag", l.imagHdr, l.imagHdr + 4, []error{ErrSectionOrder}},
			{"IMAG length", l.imagHdr + 4, l.image, []error{ErrMalformed}},
			{"image", l.image, l.end, imageErrs},
		}
		r := rand.New(rand.NewPCG(uint64(len(b)), 3))
		for _, rg := range regions {
			for i := rg.start; i < rg.end; i++ {
				// Every bit of every byte, but in the image past its
				// first 64 bytes (zstd frame and block headers) only every
				// bit of one byte in 8, chosen at random. The race
				// detector makes ed25519 slow: there the manifest text is
				// sampled too, and the image one byte in 32.
				bulk, sample := i >= l.image+64, 8
				if raceEnabled {
					bulk, sample = bulk || rg.name == "manifest", 32
				}
				if bulk && r.IntN(sample) != 0 {
					continue
				}
				for bit := range 8 {
					flipped := bytes.Clone(b)
					flipped[i] ^= 1 << bit
					_, _, err := readBundle(flipped, keys)
					if !isAny(err, rg.want...) {
						t.Fatalf("%s: flip bit %d of byte %d (%s): got %v, want one of %v", c, bit, i, rg.name, err, rg.want)
					}
				}
			}
		}
	}
}

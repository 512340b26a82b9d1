package bundle

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// zstdCase is a signed zstd stream of an image and what the install's
// first pass, VerifyStored, must say of it.
type zstdCase struct {
	name   string // also the name of its fuzz seed
	stored []byte
	want   error  // nil: accepted
	text   string // in the refusal
	// decodes: the installer's decoder reads it to a verified image. A
	// refusal of such a stream is lockd's policy, not a decoder limit.
	decodes bool
}

// zstdCases are streams of img, good and broken, as a signed bundle may
// carry them. Window descriptors: exponent<<3 | mantissa eighths, of
// 1 KiB<<exponent.
func zstdCases(t testing.TB, img []byte) []zstdCase {
	var own bytes.Buffer
	if _, err := EncodeImage(context.Background(), &own, bytes.NewReader(img), CompressionZstd); err != nil {
		t.Fatal(err)
	}
	// A stream with a window descriptor (not single-segment), no content
	// size: the frame headers below are patched into it.
	plain := encodeZstd(t, img, -1)
	half := len(img) / 2
	return []zstdCase{
		{"valid-zstd", own.Bytes(), nil, "", true}, // as `lockd bundle create` writes
		{"valid-zstd-no-content-size", plain, nil, "", true},
		{"valid-zstd-content-size", encodeZstd(t, img, len(img)), nil, "", true},
		{"valid-zstd-window-8m", setWindow(t, plain, 13<<3), nil, "", true},
		{"valid-zstd-two-frames", cat(encodeZstd(t, img[:half], -1), encodeZstd(t, img[half:], half)), nil, "", true},
		{"zstd-window-9m", setWindow(t, plain, 13<<3|1), ErrImageCorrupt, "9 MiB window is more than the 8 MiB", false},
		{"zstd-window-2g", setWindow(t, plain, 21<<3), ErrImageCorrupt, "2 GiB window", false},
		{"zstd-content-size-short", encodeZstd(t, img[:len(img)-1], len(img)-1), ErrImageSize,
			"declare " + strconv.Itoa(len(img)-1) + " bytes, the manifest's image is " + strconv.Itoa(len(img)), false},
		{"zstd-two-frames-too-long", cat(encodeZstd(t, img, len(img)), encodeZstd(t, img[:half], half)), ErrImageSize,
			"frames 1 to 2 declare more than the manifest's", false},
		{"zstd-truncated-frame", plain[:len(plain)-5], ErrImageCorrupt, "cut short", false},
		{"zstd-truncated-header", plain[:5], ErrImageCorrupt, "ends inside the frame header", false},
		{"zstd-not-zstd", img, ErrImageCorrupt, "does not start with a zstd frame", false},
		{"zstd-dictionary", withDictionary(t, plain, 7), ErrImageCorrupt, "needs zstd dictionary 7", false},
		{"zstd-reserved-block", setBlockHeader(t, plain, 3, -1), ErrImageCorrupt, "reserved block type", false},
		{"zstd-block-too-big", setBlockHeader(t, plain, -1, maxBlockSize+1), ErrImageCorrupt, "larger than the frame's", false},
		{"zstd-trailing", cat(plain, []byte{0, 1}), ErrImageCorrupt, "0001... after the last frame is no zstd frame", false},
		// What the decoder skips, and lockd's bundles never hold.
		{"zstd-skippable", cat(plain, skippable), ErrImageCorrupt, "skippable frame", true},
		{"zstd-skippable-first", cat(skippable, plain), ErrImageCorrupt, "frame 1 at offset 0 of the image: a skippable frame", true},
	}
}

// skippable is a skippable frame of four bytes.
var skippable = []byte{0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 'l', 'o', 'c', 'k'}

// TestZstdStreams: the install's first pass refuses every stream the
// decoder would stop on half-way through the slot, and accepts every
// stream lockd's decoder reads, bar what lockd's policy refuses.
func TestZstdStreams(t *testing.T) {
	keys := NewKeyring(pubOf(testKey(1)))
	img := testImage(300<<10, 5) // several blocks
	for _, tc := range zstdCases(t, img) {
		if tc.name == "valid-zstd-no-content-size" && header(t, tc.stored).HasFCS {
			t.Fatal("test bug: the stream without a content size has one")
		}
		t.Run(tc.name, func(t *testing.T) {
			b := signStored(t, img, tc.stored)
			r, err := Open(bytes.NewReader(b), keys)
			if err != nil {
				t.Fatal(err)
			}
			err = r.VerifyStored()
			r.Close()
			if tc.want == nil && err != nil || !errors.Is(err, tc.want) || err != nil && !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("VerifyStored: %v; want %v saying %q", err, tc.want, tc.text)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "bundle: ") {
				t.Errorf("refusal %q does not start with the package name", err)
			}
			_, got, err := readBundle(b, keys)
			if decodes := err == nil && bytes.Equal(got, img); decodes != tc.decodes {
				t.Fatalf("the decoder read it: %v (%v), want %v", decodes, err, tc.decodes)
			}
		})
	}
}

// TestVerifyStoredHashFirst: a bundle whose stored bytes are not what was
// signed is reported as such (ErrImageHash), even where the change breaks
// a frame or block header.
func TestVerifyStoredHashFirst(t *testing.T) {
	keys := NewKeyring(pubOf(testKey(1)))
	b := build(t, testKey(1), testManifest(), testImage(300<<10, 5), CompressionZstd)
	at := layoutOf(b).image
	for i := at; i < at+16; i++ {
		flipped := bytes.Clone(b)
		flipped[i] ^= 0x80
		r, err := Open(bytes.NewReader(flipped), keys)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.VerifyStored(); !errors.Is(err, ErrImageHash) {
			t.Errorf("flip at image byte %d: %v, want ErrImageHash", i-at, err)
		}
		r.Close()
	}
}

// encodeZstd compresses img as one frame with a 64 KiB window; a
// contentSize >= 0 is declared in the frame header (the encoder checks
// it), -1 declares none but for an input of one block, which the encoder
// compresses in one go and declares anyway.
func encodeZstd(t testing.TB, img []byte, contentSize int) []byte {
	var out bytes.Buffer
	enc, err := zstd.NewWriter(nil, zstd.WithWindowSize(64<<10), zstd.WithEncoderConcurrency(1),
		zstd.WithSingleSegment(false), zstd.WithEncoderCRC(true))
	if err != nil {
		t.Fatal(err)
	}
	enc.ResetContentSize(&out, int64(contentSize))
	if _, err := enc.Write(img); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	if h := header(t, out.Bytes()); contentSize >= 0 && h.FrameContentSize != uint64(contentSize) || h.SingleSegment {
		t.Fatalf("test bug: encoder wrote %+v for content size %d", h, contentSize)
	}
	return out.Bytes()
}

// header decodes the first frame header of s.
func header(t testing.TB, s []byte) zstd.Header {
	var h zstd.Header
	if err := h.Decode(s); err != nil {
		t.Fatal(err)
	}
	return h
}

// setWindow returns s with the window descriptor of its first frame set to
// wd; s has a window descriptor and no dictionary id, right after the
// frame header descriptor.
func setWindow(t testing.TB, s []byte, wd byte) []byte {
	if h := header(t, s); h.SingleSegment || h.DictionaryID != 0 {
		t.Fatal("test bug: no window descriptor at byte 5")
	}
	s = bytes.Clone(s)
	s[5] = wd
	return s
}

// withDictionary returns s with its first frame header naming dictionary id.
func withDictionary(t testing.TB, s []byte, id uint32) []byte {
	h := header(t, s)
	hs := h.HeaderSize
	h.DictionaryID = id
	out, err := h.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := header(t, out); got.DictionaryID != id || got.WindowSize != h.WindowSize || got.HasFCS != h.HasFCS {
		t.Fatalf("test bug: rewritten header %+v", got)
	}
	return append(out, s[hs:]...)
}

// setBlockHeader returns s with the type and (or) the size of its first
// block changed; -1 keeps one.
func setBlockHeader(t testing.TB, s []byte, kind, size int) []byte {
	at := header(t, s).HeaderSize
	s = bytes.Clone(s)
	var b [4]byte
	copy(b[:], s[at:at+3])
	v := binary.LittleEndian.Uint32(b[:])
	if kind >= 0 {
		v = v&^6 | uint32(kind)<<1
	}
	if size >= 0 {
		v = v&7 | uint32(size)<<3
	}
	binary.LittleEndian.PutUint32(b[:], v)
	copy(s[at:], b[:3])
	return s
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

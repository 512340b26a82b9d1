package bundle

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var genCorpus = flag.Bool("gen-corpus", false, "rewrite the seed corpora in testdata/fuzz")

// FuzzOpen feeds arbitrary bytes to Open, the install's first pass
// (VerifyStored) and the image reader. It must never panic, must refuse
// with a known error, and must accept only manifests the test key signed,
// with an image whose size and sha256 match. The first pass must not
// refuse a bundle whose image then reads and verifies, but for what lockd
// refuses by choice (skippable zstd frames).
func FuzzOpen(f *testing.F) {
	pub := pubOf(testKey(1))
	keys := NewKeyring(pub)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Open(bytes.NewReader(data), keys)
		if err != nil {
			if !isAny(err, allSentinels...) {
				t.Fatalf("unclassified refusal: %v", err)
			}
			return
		}
		defer r.Close()
		first, err := Open(bytes.NewReader(data), keys)
		if err != nil {
			t.Fatalf("opens once, not twice: %v", err)
		}
		stored := first.VerifyStored()
		first.Close()
		if stored != nil && !isAny(stored, allSentinels...) {
			t.Fatalf("unclassified first-pass refusal: %v", stored)
		}
		// Re-derive what was signed without the package's parser.
		n := binary.BigEndian.Uint64(data[14:22])
		manifest, sig := data[22:22+n], data[42+n:106+n]
		if !ed25519.Verify(pub, append([]byte(signatureDomain), manifest...), sig) {
			t.Fatal("accepted a manifest the test key did not sign")
		}
		if !bytes.Equal(r.ManifestBytes(), manifest) {
			t.Fatal("Manifest differs from the signed bytes")
		}
		img, err := io.ReadAll(r.Image()) // at most Image.Size bytes, signed and small
		if err != nil {
			if !isAny(err, allSentinels...) {
				t.Fatalf("unclassified image error: %v", err)
			}
			return
		}
		sum := sha256.Sum256(img)
		if m := r.Manifest(); uint64(len(img)) != m.Image.Size || hex.EncodeToString(sum[:]) != m.Image.SHA256 {
			t.Fatal("accepted an image that does not match the manifest")
		}
		if uint64(len(data)) != 118+n+r.Manifest().Image.StoredSize {
			t.Fatal("accepted a bundle with trailing data")
		}
		if stored != nil && !strings.Contains(stored.Error(), "skippable frame") {
			t.Fatalf("the first pass refused a bundle whose image verifies: %v", stored)
		}
	})
}

// FuzzManifest feeds arbitrary bytes to the strict manifest parser and the
// same bytes, as a string, to the semver parser.
func FuzzManifest(f *testing.F) {
	fixed := []Version{{}, {Major: 1}, {Major: 1, Pre: []string{"rc", "1"}}, {Major: 2, Minor: 1}}
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := ParseManifest(data); err == nil {
			b, err := m.Marshal()
			if err != nil {
				t.Fatalf("accepted %q, but cannot marshal it: %v", data, err)
			}
			m2, err := ParseManifest(b)
			if err != nil || !m2.Created.Equal(m.Created) || m2.Image != m.Image || m2.Version != m.Version {
				t.Fatalf("round trip of %q: %+v, %v", data, m2, err)
			}
		} else if !errors.Is(err, ErrBadManifest) {
			t.Fatalf("unclassified: %v", err)
		}
		v, err := ParseVersion(string(data))
		if err != nil {
			return
		}
		if v.String() != string(data) {
			t.Fatalf("ParseVersion(%q).String() = %q", data, v.String())
		}
		for _, w := range fixed {
			if v.Compare(w) != -w.Compare(v) {
				t.Fatalf("Compare(%s, %s) is not antisymmetric", v, w)
			}
		}
		if v.Compare(v) != 0 {
			t.Fatalf("%s != itself", v)
		}
	})
}

// corpusFile is a seed in the `go test fuzz v1` format.
func corpusFile(data []byte) []byte {
	return fmt.Appendf(nil, "go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(data)))
}

func readCorpusFile(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := strings.CutPrefix(string(b), "go test fuzz v1\n[]byte(")
	s, ok2 := strings.CutSuffix(s, ")\n")
	u, err := strconv.Unquote(s)
	if !ok || !ok2 || err != nil {
		t.Fatalf("%s: not a []byte seed: %v", path, err)
	}
	return []byte(u)
}

// seedBundles are small bundles signed with the test key. Names starting
// with "valid-" must open and verify.
func seedBundles(t *testing.T) map[string][]byte {
	priv := testKey(1)
	m := testManifest()
	image := testImage(1500, 11)
	raw := build(t, priv, m, image, CompressionNone)
	zst := build(t, priv, m, image, CompressionZstd)
	l := layoutOf(zst)
	seeds := map[string][]byte{
		"valid-raw":          raw,
		"valid-zstd":         zst,
		"valid-tiny":         build(t, priv, m, []byte{0}, CompressionNone),
		"other-key":          build(t, testKey(2), m, image, CompressionZstd),
		"truncated-image":    zst[:len(zst)-7],
		"padded":             append(bytes.Clone(zst), 0),
		"bad-signature":      append(append(bytes.Clone(zst[:l.sig]), 0), zst[l.sig+1:]...),
		"head-only":          zst[:l.image],
		"reordered-sections": bytes.Join([][]byte{zst[:l.mnftHdr], zst[l.signHdr:l.imagHdr], zst[l.mnftHdr:l.signHdr], zst[l.imagHdr:]}, nil),
	}
	// Signed, well-formed bundles whose zstd streams are good or broken
	// (TestZstdStreams); "valid-zstd" is the same bundle as above.
	for _, c := range zstdCases(t, image) {
		seeds[c.name] = signStored(t, image, c.stored)
	}
	return seeds
}

func seedManifests(t *testing.T) map[string][]byte {
	valid, err := ParseManifest([]byte(manifestJSON))
	if err != nil {
		t.Fatal(err)
	}
	canonical, _ := valid.Marshal()
	return map[string][]byte{
		"valid":           []byte(manifestJSON),
		"valid-canonical": canonical,
		"duplicate-key":   []byte(strings.Replace(manifestJSON, `"format": 1,`, `"format": 1, "format": 1,`, 1)),
		"semver-pre":      []byte("1.0.0-alpha.1+build.2"),
		"semver-bad":      []byte("01.0.0-"),
	}
}

// TestFuzzCorpus keeps the committed seed corpora meaningful: every
// "valid-" seed must still open, and -gen-corpus rewrites them all.
func TestFuzzCorpus(t *testing.T) {
	sets := map[string]map[string][]byte{"FuzzOpen": seedBundles(t), "FuzzManifest": seedManifests(t)}
	for fuzz, seeds := range sets {
		dir := filepath.Join("testdata", "fuzz", fuzz)
		if *genCorpus {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for name, data := range seeds {
				if err := os.WriteFile(filepath.Join(dir, name), corpusFile(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		for name := range seeds {
			path := filepath.Join(dir, name)
			data := readCorpusFile(t, path)
			if fi, _ := os.Stat(path); fi.Size() > 8<<10 {
				t.Errorf("%s is %d bytes; keep seeds under 8 KiB", path, fi.Size())
			}
			if !strings.HasPrefix(name, "valid") {
				continue
			}
			var err error
			if fuzz == "FuzzOpen" {
				_, _, err = readBundle(data, NewKeyring(pubOf(testKey(1))))
			} else {
				_, err = ParseManifest(data)
			}
			if err != nil {
				t.Errorf("%s no longer valid (run go test -run TestFuzzCorpus -gen-corpus): %v", path, err)
			}
		}
	}
}

package bundle

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRoundTrip(t *testing.T) {
	priv := testKey(1)
	keys := NewKeyring(pubOf(priv))
	image := testImage(300<<10, 1)
	for _, c := range []string{CompressionNone, CompressionZstd} {
		t.Run(c, func(t *testing.T) {
			b := build(t, priv, testManifest(), image, c)
			m, got, err := readBundle(b, keys)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, image) {
				t.Fatalf("image differs: got %d bytes, want %d", len(got), len(image))
			}
			want := testManifest()
			want.Image, _ = EncodeImage(context.Background(), io.Discard, bytes.NewReader(image), c)
			if c == CompressionNone {
				want.Image.StoredSize = uint64(len(image))
			} else {
				want.Image.StoredSize = uint64(len(b) - layoutOf(b).image)
				if want.Image.StoredSize >= uint64(len(image)) {
					t.Errorf("zstd did not compress: %d -> %d", len(image), want.Image.StoredSize)
				}
			}
			if d := cmp.Diff(want, m); d != "" {
				t.Errorf("manifest (-want +got):\n%s", d)
			}
		})
	}
}

// TestOpenReadsNoImage proves that Open stops exactly where the image
// starts, whether it accepts the bundle or refuses it.
func TestOpenReadsNoImage(t *testing.T) {
	priv := testKey(1)
	b := build(t, priv, testManifest(), testImage(64<<10, 2), CompressionZstd)
	start := layoutOf(b).image
	for name, keys := range map[string]Keyring{
		"trusted":   NewKeyring(pubOf(priv)),
		"untrusted": NewKeyring(pubOf(testKey(2))),
	} {
		src := bytes.NewReader(b)
		_, err := Open(src, keys)
		if name == "trusted" && err != nil {
			t.Fatal(err)
		}
		if read := len(b) - src.Len(); read > start {
			t.Errorf("%s: Open read %d bytes, the image starts at %d", name, read, start)
		}
	}
	// A bad signature is refused the same way.
	bad := bytes.Clone(b)
	bad[layoutOf(b).sig] ^= 1
	src := bytes.NewReader(bad)
	if _, err := Open(src, NewKeyring(pubOf(priv))); !isAny(err, ErrBadSignature) {
		t.Fatalf("got %v, want ErrBadSignature", err)
	}
	if read := len(b) - src.Len(); read > start {
		t.Errorf("bad signature: Open read %d bytes, the image starts at %d", read, start)
	}
}

func TestKeyRotation(t *testing.T) {
	dir := t.TempDir()
	old, cur := testKey(1), testKey(2)
	for _, k := range []struct {
		name string
		priv ed25519.PrivateKey
	}{{"old", old}, {"new", cur}} {
		if err := WriteKeyPair(dir+"/"+k.name, k.priv); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := LoadKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	if keys.Len() != 2 {
		t.Fatalf("keyring has %d keys, want 2", keys.Len())
	}
	image := testImage(10<<10, 3)
	for _, priv := range []ed25519.PrivateKey{old, cur} {
		if _, _, err := readBundle(build(t, priv, testManifest(), image, CompressionZstd), keys); err != nil {
			t.Errorf("key %s: %v", KeyIDOf(pubOf(priv)), err)
		}
	}
	retired := NewKeyring(pubOf(cur))
	_, _, err = readBundle(build(t, old, testManifest(), image, CompressionZstd), retired)
	if !isAny(err, ErrUnknownKey) {
		t.Errorf("bundle signed by a retired key: got %v, want ErrUnknownKey", err)
	}
}

// Package bundletest makes signed update bundles for tests of the code
// that installs them (updater, dbusapi, lockctl).
package bundletest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"lockd.dev/lockd/updater/blockindex"
	"lockd.dev/lockd/updater/bundle"
)

// Options describe the bundle; Compatible and Version are required.
type Options struct {
	Compatible      string
	Version         string
	SecurityVersion uint64
	// Compression defaults to zstd.
	Compression string
	// Created defaults to a fixed time.
	Created time.Time
	// EditStored, if set, rewrites the stored (compressed) image before
	// it is signed: for tests of signed bundles whose stream is broken.
	// The manifest keeps img's size and sha256.
	EditStored func(stored []byte) []byte
	// ChunkSize, if not 0, makes an indexed bundle (format 2) in chunks
	// of that many image bytes (a multiple of 4096).
	ChunkSize int
	// EditIndex, if set, changes an indexed bundle's index before it is
	// signed: for tests of signed indexes that lie.
	EditIndex func(*blockindex.Index)
}

// Make returns a bundle of img signed with priv.
func Make(t testing.TB, priv ed25519.PrivateKey, img []byte, o Options) []byte {
	t.Helper()
	b, err := MakeErr(priv, img, o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// MakeErr is Make for code that is no test (lockbench): it returns the
// error instead.
func MakeErr(priv ed25519.PrivateKey, img []byte, o Options) ([]byte, error) {
	if o.Compression == "" {
		o.Compression = bundle.CompressionZstd
	}
	if o.Created.IsZero() {
		o.Created = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	}
	if o.ChunkSize != 0 {
		return makeIndexed(priv, img, o)
	}
	var stored bytes.Buffer
	im, err := bundle.EncodeImage(context.Background(), &stored, bytes.NewReader(img), o.Compression)
	if err != nil {
		return nil, err
	}
	editStored(&im, &stored, o.EditStored)
	m := bundle.Manifest{Format: bundle.FormatVersion, Compatible: o.Compatible, Version: o.Version,
		SecurityVersion: o.SecurityVersion, Image: im, Created: o.Created}
	var out bytes.Buffer
	if err := bundle.Write(context.Background(), &out, priv, m, &stored); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func makeIndexed(priv ed25519.PrivateKey, img []byte, o Options) ([]byte, error) {
	var stored bytes.Buffer
	im, ix, err := bundle.EncodeIndexed(context.Background(), &stored, bytes.NewReader(img), int64(len(img)), o.ChunkSize, bundle.IndexedLevel)
	if err != nil {
		return nil, err
	}
	editStored(&im, &stored, o.EditStored)
	if o.EditIndex != nil {
		o.EditIndex(ix)
	}
	index := ix.Marshal()
	sum := sha256.Sum256(index)
	m := bundle.Manifest{Format: bundle.FormatIndexed, Compatible: o.Compatible, Version: o.Version,
		SecurityVersion: o.SecurityVersion, Image: im, Created: o.Created,
		Index: &bundle.IndexRef{Size: uint64(len(index)), SHA256: hex.EncodeToString(sum[:])}}
	var out bytes.Buffer
	if err := bundle.WriteIndexed(context.Background(), &out, priv, m, index, &stored); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// editStored applies edit, if set, to the stored image and re-describes it.
func editStored(im *bundle.Image, stored *bytes.Buffer, edit func([]byte) []byte) {
	if edit == nil {
		return
	}
	edited := edit(bytes.Clone(stored.Bytes()))
	sum := sha256.Sum256(edited)
	im.StoredSize, im.StoredSHA256 = uint64(len(edited)), hex.EncodeToString(sum[:])
	stored.Reset()
	stored.Write(edited)
}

// Image is a root file-system image of a version: recognisable bytes
// ("ROOTFS VERSION\0", then a sha256 chain seeded by the version), so a
// test can tell from a slot which version it holds.
func Image(version string, size int) []byte {
	b := make([]byte, size)
	seed := sha256.Sum256([]byte(version))
	for i := 0; i < size; i += len(seed) {
		copy(b[i:], seed[:])
		seed = sha256.Sum256(seed[:])
	}
	copy(b, "ROOTFS "+version+"\x00")
	return b
}

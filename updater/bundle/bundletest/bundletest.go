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
}

// Make returns a bundle of img signed with priv.
func Make(t testing.TB, priv ed25519.PrivateKey, img []byte, o Options) []byte {
	t.Helper()
	if o.Compression == "" {
		o.Compression = bundle.CompressionZstd
	}
	if o.Created.IsZero() {
		o.Created = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	}
	var stored bytes.Buffer
	im, err := bundle.EncodeImage(context.Background(), &stored, bytes.NewReader(img), o.Compression)
	if err != nil {
		t.Fatal(err)
	}
	if o.EditStored != nil {
		edited := o.EditStored(bytes.Clone(stored.Bytes()))
		sum := sha256.Sum256(edited)
		im.StoredSize, im.StoredSHA256 = uint64(len(edited)), hex.EncodeToString(sum[:])
		stored.Reset()
		stored.Write(edited)
	}
	m := bundle.Manifest{Format: bundle.FormatVersion, Compatible: o.Compatible, Version: o.Version,
		SecurityVersion: o.SecurityVersion, Image: im, Created: o.Created}
	var out bytes.Buffer
	if err := bundle.Write(context.Background(), &out, priv, m, &stored); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

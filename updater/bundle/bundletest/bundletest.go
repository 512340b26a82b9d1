// Package bundletest makes signed update bundles for tests of the code
// that installs them (updater, dbusapi, lockctl).
package bundletest

import (
	"bytes"
	"context"
	"crypto/ed25519"
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
	m := bundle.Manifest{Format: bundle.FormatVersion, Compatible: o.Compatible, Version: o.Version,
		SecurityVersion: o.SecurityVersion, Image: im, Created: o.Created}
	var out bytes.Buffer
	if err := bundle.Write(context.Background(), &out, priv, m, &stored); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

package bundle

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"lockd.dev/lockd/updater/blockindex"
	"os"
	"time"
)

// runKeygen: lockd bundle keygen -o KEYBASE.
func runKeygen(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keygen", stderr)
	base := fs.String("o", "", "write `KEYBASE`.key and KEYBASE.pub")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	if *base == "" {
		return usagef("-o KEYBASE is required")
	}
	pub, priv, err := ed25519.GenerateKey(nil) // crypto/rand
	if err != nil {
		return fmt.Errorf("bundle: keygen: %w", err)
	}
	if err := WriteKeyPair(*base, priv); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s.key (private: keep it offline, mode 0600) and %s.pub\nkey id %s: install %s.pub into the units' [update] keys directory\n",
		*base, *base, KeyIDOf(pub), *base)
	return nil
}

// runInspect: lockd bundle inspect BUNDLE. It shows what the bundle claims
// without trusting it: no keys are needed and nothing is verified but the
// structure and the manifest's syntax.
func runInspect(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("inspect", stderr)
	pos, err := parseArgs(fs, args, "BUNDLE")
	if err != nil {
		return err
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	defer f.Close()
	h, err := readHead(f)
	if err != nil {
		return err
	}
	m, err := ParseManifest(h.manifest)
	if err != nil {
		return err
	}
	img := m.Image
	index, serr := readSections(f, h, m)
	fmt.Fprintf(stdout, "bundle:           %s\n", pos[0])
	fmt.Fprintf(stdout, "format:           %d\n", m.Format)
	fmt.Fprintf(stdout, "compatible:       %s\n", m.Compatible)
	fmt.Fprintf(stdout, "version:          %s\n", m.Version)
	fmt.Fprintf(stdout, "security_version: %d\n", m.SecurityVersion)
	fmt.Fprintf(stdout, "created:          %s\n", m.Created.UTC().Format(time.RFC3339))
	if m.Description != "" {
		fmt.Fprintf(stdout, "description:      %+q\n", m.Description) // quoted: it is untrusted text
	}
	fmt.Fprintf(stdout, "image:            %d bytes, sha256 %s\n", img.Size, img.SHA256)
	fmt.Fprintf(stdout, "compression:      %s, %d bytes stored\n", img.Compression, img.StoredSize)
	if ix, err := blockindex.Parse(index); err == nil {
		fmt.Fprintf(stdout, "index:            %d blocks of %d bytes, %d chunks of %d bytes\n", len(ix.Blocks), ix.BlockSize, len(ix.Chunks), ix.ChunkSize())
	}
	fmt.Fprintf(stdout, "signed:           ed25519, key id %s (not verified; use verify --keys DIR)\n", h.keyID)
	if serr != nil {
		return serr
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		if want := h.offset + int64(img.StoredSize); fi.Size() != want {
			return fmt.Errorf("bundle: file is %d bytes, the manifest implies %d (truncated or padded)", fi.Size(), want)
		}
	}
	return nil
}

// runVerify: lockd bundle verify --keys DIR BUNDLE. It checks the signature
// and streams the whole image through the same reader the installer uses.
func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("verify", stderr)
	dir := fs.String("keys", "", "`DIR` of trusted *.pub keys")
	pos, err := parseArgs(fs, args, "BUNDLE")
	if err != nil {
		return err
	}
	if *dir == "" {
		return usagef("--keys DIR is required")
	}
	keys, err := LoadKeyring(*dir)
	if err != nil {
		return err
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	defer f.Close()
	m, id, err := verifyStream(ctx, f, keys)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "OK %s: %s %s (security version %d), signed by key %s, image %d bytes sha256 %s verified\n",
		pos[0], m.Compatible, m.Version, m.SecurityVersion, id, m.Image.Size, m.Image.SHA256)
	return nil
}

// verifyStream checks a bundle as a unit's install does before it writes:
// a first pass over the stored image (VerifyStored: its sha256 and zstd
// frames), then the image read to its verified end. So the host tool
// refuses what a unit would refuse.
func verifyStream(ctx context.Context, r io.ReadSeeker, keys Keyring) (Manifest, KeyID, error) {
	first, err := Open(r, keys)
	if err != nil {
		return Manifest{}, KeyID{}, err
	}
	err = first.VerifyStored()
	first.Close()
	if err != nil {
		return Manifest{}, KeyID{}, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return Manifest{}, KeyID{}, fmt.Errorf("bundle: %w", err)
	}
	br, err := Open(r, keys)
	if err != nil {
		return Manifest{}, KeyID{}, err
	}
	defer br.Close()
	if _, err := copyCtx(ctx, io.Discard, br.Image()); err != nil {
		return Manifest{}, KeyID{}, err
	}
	return br.Manifest(), br.KeyID(), nil
}

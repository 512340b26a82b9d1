package bundle

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// createOpts are the arguments of create.
type createOpts struct {
	key, compatible, version, compression, description string
	securityVersion                                    uint64
	image, out                                         string
	index                                              bool
}

// runCreate: lockd bundle create --key KEY --compatible C --version V
// [--security-version N] [--compression zstd|none] IMAGE -o BUNDLE.
func runCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o createOpts
	fs := newFlagSet("create", stderr)
	fs.StringVar(&o.key, "key", "", "private `KEY` file (from keygen)")
	fs.StringVar(&o.compatible, "compatible", "", "hardware `C` the image is built for")
	fs.StringVar(&o.version, "version", "", "semantic `V`ersion of the image")
	fs.Uint64Var(&o.securityVersion, "security-version", 0, "monotonic security version `N`")
	fs.StringVar(&o.compression, "compression", CompressionZstd, "zstd or none")
	fs.StringVar(&o.description, "description", "", "optional free `TEXT`")
	fs.BoolVar(&o.index, "index", true, "a block-hash index and an image in chunks (format 2: adaptive installs); false: format 1")
	fs.StringVar(&o.out, "o", "", "write the bundle to `BUNDLE`")
	pos, err := parseArgs(fs, args, "IMAGE")
	if err != nil {
		return err
	}
	o.image = pos[0]
	switch {
	case o.key == "" || o.compatible == "" || o.version == "" || o.out == "":
		return usagef("--key, --compatible, --version and -o are required")
	case o.compression != CompressionZstd && o.compression != CompressionNone:
		return usagef("--compression %q: want zstd or none", o.compression)
	}
	if err := validCompatible(o.compatible); err != nil {
		return usagef("--compatible: %v", err)
	}
	if _, err := ParseVersion(o.version); err != nil {
		return usagef("--version: %v", err)
	}
	m, id, err := createBundle(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %s %s (security version %d), image %d bytes sha256 %s, %s %d bytes, key id %s\n",
		o.out, m.Compatible, m.Version, m.SecurityVersion, m.Image.Size, m.Image.SHA256, m.Image.Compression, m.Image.StoredSize, id)
	return nil
}

// createBundle streams the image twice at most and never holds it in
// memory: once to hash it (and, for zstd, compress it into a temporary
// file), once to copy it into the bundle. The bundle is written under a
// temporary name, verified with the public key, then renamed into place.
func createBundle(ctx context.Context, o createOpts) (Manifest, KeyID, error) {
	priv, err := ReadPrivateKey(o.key)
	if err != nil {
		return Manifest{}, KeyID{}, err
	}
	if abs(o.image) == abs(o.out) {
		return Manifest{}, KeyID{}, fmt.Errorf("bundle: create: image and output are the same file")
	}
	in, err := os.Open(o.image)
	if err != nil {
		return Manifest{}, KeyID{}, fmt.Errorf("bundle: create: %w", err)
	}
	defer in.Close()
	stored := in
	var (
		img   Image
		index []byte
	)
	switch {
	case o.compression == CompressionZstd:
		tmp, err := os.CreateTemp(filepath.Dir(o.out), "."+filepath.Base(o.out)+".zst-*")
		if err != nil {
			return Manifest{}, KeyID{}, fmt.Errorf("bundle: create: %w", err)
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		stored = tmp
		if img, index, err = encodeStored(ctx, tmp, in, o.index); err != nil {
			return Manifest{}, KeyID{}, err
		}
	default:
		if img, err = EncodeImage(ctx, io.Discard, in, CompressionNone); err != nil {
			return Manifest{}, KeyID{}, err
		}
	}
	if _, err := stored.Seek(0, io.SeekStart); err != nil {
		return Manifest{}, KeyID{}, fmt.Errorf("bundle: create: %w", err)
	}
	m := Manifest{
		Format:          FormatVersion,
		Compatible:      o.compatible,
		Version:         o.version,
		SecurityVersion: o.securityVersion,
		Image:           img,
		Created:         time.Now().UTC().Truncate(time.Second),
		Description:     o.description,
	}
	if index != nil {
		sum := sha256.Sum256(index)
		m.Format, m.Index = FormatIndexed, &IndexRef{Size: uint64(len(index)), SHA256: hex.EncodeToString(sum[:])}
	}
	out, err := createAtomic(o.out)
	if err != nil {
		return Manifest{}, KeyID{}, err
	}
	defer out.Abort()
	if err := write(ctx, out, priv, m, index, stored); err != nil {
		return Manifest{}, KeyID{}, err
	}
	// Read back what was written, as a unit would, before it gets its
	// name: catches a file that changed between the passes, a full disk,
	// or a bug here.
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		return Manifest{}, KeyID{}, fmt.Errorf("bundle: create: %w", err)
	}
	pub := priv.Public().(ed25519.PublicKey)
	if _, _, err := verifyStream(ctx, out, NewKeyring(pub)); err != nil {
		return Manifest{}, KeyID{}, fmt.Errorf("bundle: create: self-check of %s failed (did the image change while it was read?): %w", o.out, err)
	}
	return m, KeyIDOf(pub), out.Commit()
}

// encodeStored compresses the image file in into tmp: indexed (format 2)
// or as one stream (format 1). It returns the index bytes of an indexed
// image.
func encodeStored(ctx context.Context, tmp io.Writer, in *os.File, indexed bool) (Image, []byte, error) {
	if !indexed {
		img, err := EncodeImage(ctx, tmp, in, CompressionZstd)
		return img, nil, err
	}
	fi, err := in.Stat()
	if err != nil {
		return Image{}, nil, fmt.Errorf("bundle: create: %w", err)
	}
	img, ix, err := EncodeIndexed(ctx, tmp, in, fi.Size(), ChunkSize, IndexedLevel)
	if err != nil {
		return Image{}, nil, err
	}
	return img, ix.Marshal(), nil
}

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

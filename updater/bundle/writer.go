package bundle

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"

	"github.com/klauspost/compress/zstd"
)

const copyBufSize = 256 << 10

// EncodeImage copies src to dst, compressing it as compression says, and
// returns the Image fields of the manifest: size and sha256 of src, and the
// number of bytes written to dst. With CompressionNone, dst may be
// io.Discard to only measure src. Memory stays bounded whatever the size.
func EncodeImage(ctx context.Context, dst io.Writer, src io.Reader, compression string) (Image, error) {
	img := Image{Compression: compression}
	cw := &countWriter{w: dst, h: sha256.New()}
	var w io.Writer = cw
	var enc *zstd.Encoder
	switch compression {
	case CompressionNone:
	case CompressionZstd:
		var err error
		enc, err = zstd.NewWriter(cw,
			zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(encoderWindow),
			zstd.WithEncoderCRC(true))
		if err != nil {
			return img, fmt.Errorf("bundle: zstd encoder: %w", err)
		}
		defer enc.Close()
		w = enc
	default:
		return img, fmt.Errorf("bundle: unknown compression %q, want %q or %q", compression, CompressionNone, CompressionZstd)
	}
	h := sha256.New()
	n, err := copyCtx(ctx, io.MultiWriter(h, w), src)
	if err != nil {
		return img, fmt.Errorf("bundle: encode image: %w", err)
	}
	if enc != nil {
		if err := enc.Close(); err != nil {
			return img, fmt.Errorf("bundle: encode image: %w", err)
		}
	}
	img.Size = uint64(n)
	img.SHA256 = hex.EncodeToString(h.Sum(nil))
	img.StoredSize = uint64(cw.n)
	img.StoredSHA256 = hex.EncodeToString(cw.h.Sum(nil))
	return img, nil
}

// Write writes a bundle to w: m signed with priv, then exactly
// m.Image.StoredSize bytes from stored, the image as EncodeImage wrote it.
// It does not check that stored matches m.Image.SHA256; Open does.
func Write(ctx context.Context, w io.Writer, priv ed25519.PrivateKey, m Manifest, stored io.Reader) error {
	return write(ctx, w, priv, m, nil, stored)
}

// WriteIndexed writes a FormatIndexed bundle: as Write, with index (from
// EncodeIndexed, whose size and sha256 m.Index holds) in its own section
// before the image.
func WriteIndexed(ctx context.Context, w io.Writer, priv ed25519.PrivateKey, m Manifest, index []byte, stored io.Reader) error {
	if index == nil {
		return fmt.Errorf("bundle: write: no index")
	}
	return write(ctx, w, priv, m, index, stored)
}

func write(ctx context.Context, w io.Writer, priv ed25519.PrivateKey, m Manifest, index []byte, stored io.Reader) error {
	if len(priv) != ed25519.PrivateKeySize {
		return fmt.Errorf("bundle: write: private key is %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	manifest, err := m.Marshal()
	if err != nil {
		return err
	}
	if _, err := w.Write(encodeHead(manifest, priv, index, m.Image.StoredSize)); err != nil {
		return fmt.Errorf("bundle: write: %w", err)
	}
	n, err := copyCtx(ctx, w, io.LimitReader(stored, int64(m.Image.StoredSize)))
	if err != nil {
		return fmt.Errorf("bundle: write image: %w", err)
	}
	if uint64(n) != m.Image.StoredSize {
		return fmt.Errorf("bundle: write image: stored image is %d bytes, manifest says %d", n, m.Image.StoredSize)
	}
	return nil
}

// copyCtx is io.Copy that stops between chunks once ctx is done.
func copyCtx(ctx context.Context, dst io.Writer, src io.Reader) (int64, error) {
	buf := make([]byte, copyBufSize)
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, rerr := src.Read(buf)
		if n > 0 {
			if _, err := dst.Write(buf[:n]); err != nil {
				return total, err
			}
			total += int64(n)
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, rerr
		}
	}
}

// countWriter counts and hashes what it writes.
type countWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	return n, err
}

package bundle

import (
	"bytes"
	"io"
	"testing"
)

// BenchmarkVerifyStream measures Open plus streaming and verifying the
// whole image, in MB/s of decompressed image, from memory (no disk).
func BenchmarkVerifyStream(b *testing.B) {
	const size = 32 << 20
	keys := NewKeyring(pubOf(testKey(1)))
	image := testImage(size, 8)
	for _, c := range []string{CompressionZstd, CompressionNone} {
		bundle := build(b, testKey(1), testManifest(), image, c)
		b.Run(c, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			buf := make([]byte, 256<<10)
			for b.Loop() {
				r, err := Open(bytes.NewReader(bundle), keys)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{r.Image()}, buf); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(bundle))/size, "stored/size")
		})
	}
}

package updater

import (
	"context"
	"fmt"
	"os"

	"lockd.dev/lockd/updater/bundle"
	"lockd.dev/lockd/updater/slotwrite"
	"lockd.dev/lockd/updater/ubootenv"
)

// adaptiveFrom is the share of sampled blocks the slots must already
// hold for an install to go adaptive; below it, scanning both slots
// costs more than it saves, and every chunk is written.
const adaptiveFrom = 0.25

// writeImage writes the image of br, whose bundle is f, into the slot at
// dev (updater/slotwrite): a format-1 bundle as a stream, an indexed one
// adaptively, reusing what the slot and the active slot at activeDev
// hold, when a sample says that saves work, else chunk by chunk. Every
// way ends with the slot read back and hashed against the manifest.
//
// An indexed bundle that is downloaded (isRemote) always goes adaptive:
// a block read from the slots costs far less than one fetched over the
// network, and the slot itself is the download's progress. After a power
// cut or a dropped install, the next install of the same bundle hashes
// what the slot holds against the signed index and fetches only the
// chunks still missing; the writes are synced every downloadSync bytes so
// that what was fetched before a cut is on the medium to be found.
func writeImage(ctx context.Context, st ubootenv.Storage, dev, activeDev string, f Source, br *bundle.Reader, progress progressFunc) (slotwrite.Stats, error) {
	m := br.Manifest()
	d, err := st.Open(dev, os.O_RDWR, 0)
	if err != nil {
		return slotwrite.Stats{}, fmt.Errorf("updater: open slot: %w", err)
	}
	defer d.Close()
	o := slotwrite.Options{Progress: slotwrite.Progress(progress), Thread: func() { _ = lowPriority() }}
	if br.Index() == nil {
		return slotwrite.Stream(ctx, d, br.Image(), m.Image.Size, m.Image.SHA256, o)
	}
	c, err := br.Chunks(f)
	if err != nil {
		return slotwrite.Stats{}, fmt.Errorf("updater: %w", err)
	}
	download := isRemote(f)
	if download {
		o.SyncEvery = downloadSync
	}
	active, err := st.Open(activeDev, os.O_RDONLY, 0)
	if err != nil {
		if download {
			return slotwrite.Adaptive(ctx, d, nil, c, m.Image.SHA256, o)
		}
		// Not fatal: the image comes from the bundle alone.
		return slotwrite.Chunked(ctx, d, c, m.Image.SHA256, o)
	}
	defer active.Close()
	if download || slotwrite.Similarity(d, active, c.Index()) >= adaptiveFrom {
		return slotwrite.Adaptive(ctx, d, active, c, m.Image.SHA256, o)
	}
	return slotwrite.Chunked(ctx, d, c, m.Image.SHA256, o)
}

// downloadSync is how many bytes a download writes between fdatasyncs:
// what a power cut can cost it again, bounded well under the 1 MiB a cut
// may cost (docs/BENCHMARKS.md) once the chunk in flight is added.
const downloadSync = 512 << 10

// onePass reports whether an install may skip the first pass over the
// stored bytes: only for an indexed bundle (each chunk is checked against
// the signed index before a byte of it is written) and only when no
// update is pending in the target slot. A bundle that then fails half-way
// leaves the slot recorded empty, as it was marked before the first
// write; a pending update is never given up for a bundle the first pass
// would have refused (docs/THREATS.md, section 7).
func onePass(br *bundle.Reader, pending bool) bool {
	return br.Index() != nil && !pending
}

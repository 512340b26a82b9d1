package slotwrite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Options are what every write takes.
type Options struct {
	// Progress sees the phases (writing, syncing, verifying) and percents.
	Progress Progress
	// Thread is run first by every goroutine of the write, the calling
	// one's included: the updater puts each on an idle-priority thread.
	Thread func()
	// SyncEvery, when not 0, makes Adaptive fdatasync the slot after
	// every SyncEvery bytes written: a download resumed after a power cut
	// finds on the medium what it fetched before (Adaptive's scan).
	SyncEvery uint64
}

func (o Options) progress(op string, pct int) {
	if o.Progress != nil {
		o.Progress(op, pct)
	}
}

// Stream writes a format-1 image: img is the bundle's image reader,
// whose Read returns io.EOF only once it verified size and hashes. One
// goroutine decompresses into a buffer while the caller's writes the
// other, and the read-back follows both.
func Stream(ctx context.Context, dev Device, img io.Reader, size uint64, sum string, o Options) (Stats, error) {
	st := Stats{Mode: "stream"}
	start := time.Now()
	type filled struct {
		buf []byte
		err error
		dt  time.Duration
	}
	free := make(chan []byte, 2)
	free <- make([]byte, Unit)
	free <- make([]byte, Unit)
	full := make(chan filled, 1)
	stop := make(chan struct{})
	done := make(chan struct{})
	// The caller closes the bundle reader once Stream returns: the
	// decoding goroutine must be out of it by then (a read racing the
	// zstd decoder's Close panicked, now and then, in updater's tests).
	defer func() {
		close(stop)
		<-done
	}()
	go func() {
		defer close(done)
		if o.Thread != nil {
			o.Thread()
		}
		for {
			var buf []byte
			select {
			case buf = <-free:
			case <-stop:
				return
			}
			t0 := time.Now()
			n, err := io.ReadFull(img, buf)
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				// ReadFull turns a short final read into ErrUnexpectedEOF;
				// the image reader's own verdict comes from the next Read.
				var one [1]byte
				if _, err = img.Read(one[:]); err == nil {
					err = errors.New("data after the end")
				}
			}
			select {
			case full <- filled{buf[:n], err, time.Since(t0)}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	fw := follow(ctx, dev, size, o.Thread, func(p int) {})
	var off uint64
	last := -1
	for {
		if err := ctx.Err(); err != nil {
			fw.stop()
			return st, fmt.Errorf("slotwrite: install interrupted: %w", err)
		}
		f := <-full
		st.Decode += f.dt
		if n := uint64(len(f.buf)); n > 0 {
			if off+n > size {
				fw.stop()
				return st, fmt.Errorf("slotwrite: image longer than its manifest's %d bytes", size)
			}
			t0 := time.Now()
			if _, err := dev.WriteAt(f.buf, int64(off)); err != nil {
				fw.stop()
				return st, fmt.Errorf("slotwrite: write slot at %d: %w", off, err)
			}
			st.Write += time.Since(t0)
			off += n
			st.Written += n
			fw.advance(off)
			if p := int(off * 90 / max(size, 1)); p != last {
				o.progress("writing", p)
				last = p
			}
		}
		if f.err == io.EOF {
			break
		}
		if f.err != nil {
			fw.stop()
			return st, fmt.Errorf("slotwrite: image: %w", f.err)
		}
		free <- f.buf[:cap(f.buf)]
	}
	if off != size {
		fw.stop()
		return st, fmt.Errorf("slotwrite: image ended after %d of %d bytes", off, size)
	}
	return st, finish(dev, fw, size, sum, &st, start, o)
}

// finish ends a sequential write: fdatasync, then the rest of the
// read-back.
func finish(dev Device, fw *follower, size uint64, sum string, st *Stats, start time.Time, o Options) error {
	o.progress("syncing", 90)
	if err := syncSlot(dev, st); err != nil {
		fw.stop()
		return err
	}
	o.progress("verifying", 95)
	err := fw.finish(sum)
	st.ReadBack = fw.busy
	st.Total = time.Since(start)
	return err
}

package slotwrite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// follower reads the slot back behind a writer that writes it front to
// back, and hashes it. Each range is made durable first (sync_file_range
// waits for its writeback) and dropped from the page cache, so its bytes
// come from the device, not from memory; the final fdatasync, which also
// flushes the device's cache, comes before finish returns.
type follower struct {
	ctx     context.Context
	dev     Device
	size    uint64
	thread  func()
	mu      sync.Mutex
	cond    *sync.Cond
	written uint64 // the writer is done up to here
	final   bool   // the writer is done and synced
	quit    bool
	h       hash.Hash
	done    chan error
	busy    time.Duration
	read    func(pct int)
}

// follow starts reading back the first size bytes of dev as the writer
// reports them written; read sees the percent read back.
func follow(ctx context.Context, dev Device, size uint64, thread func(), read func(pct int)) *follower {
	f := &follower{ctx: ctx, dev: dev, size: size, thread: thread, h: sha256.New(), done: make(chan error, 1), read: read}
	f.cond = sync.NewCond(&f.mu)
	go func() { f.done <- f.run() }()
	return f
}

// advance says the writer has written everything before off.
func (f *follower) advance(off uint64) {
	f.mu.Lock()
	f.written = max(f.written, off)
	f.mu.Unlock()
	f.cond.Signal()
}

// stop ends the follower early (the write failed).
func (f *follower) stop() {
	f.mu.Lock()
	f.quit = true
	f.mu.Unlock()
	f.cond.Signal()
	<-f.done
}

// finish is called after the writer's fdatasync: it waits for the rest
// of the read-back and compares the hash with sum.
func (f *follower) finish(sum string) error {
	f.mu.Lock()
	f.written, f.final = f.size, true
	f.mu.Unlock()
	f.cond.Signal()
	if err := <-f.done; err != nil {
		return err
	}
	if got := hex.EncodeToString(f.h.Sum(nil)); got != sum {
		return fmt.Errorf("slotwrite: read back slot: sha256 %s, the manifest says %s", got, sum)
	}
	return nil
}

func (f *follower) run() error {
	if f.thread != nil {
		f.thread()
	}
	buf := make([]byte, ReadUnit)
	last := -1
	for off := uint64(0); off < f.size; {
		f.mu.Lock()
		// Whole units only until the end: fewer, larger reads.
		for !f.quit && !f.final && f.written < min(off+ReadUnit, f.size) {
			f.cond.Wait()
		}
		quit, upto := f.quit, f.written
		f.mu.Unlock()
		if quit {
			return nil
		}
		if err := f.ctx.Err(); err != nil {
			return fmt.Errorf("slotwrite: read-back interrupted: %w", err)
		}
		t0 := time.Now()
		n := min(uint64(len(buf)), upto-off)
		settle(f.dev, off, n) // after the final fdatasync too: drop what is cached
		if _, err := f.dev.ReadAt(buf[:n], int64(off)); err != nil {
			return fmt.Errorf("slotwrite: read back slot at %d: %w", off, err)
		}
		f.h.Write(buf[:n])
		off += n
		f.busy += time.Since(t0)
		if p := int(off * 100 / f.size); p != last && f.read != nil {
			f.read(p)
			last = p
		}
	}
	return nil
}

// settle waits until the range has been written back to the device and
// drops it from the page cache, so that reading it reads the device.
func settle(d Device, off, n uint64) {
	if f, ok := d.(fder); ok {
		const flags = unix.SYNC_FILE_RANGE_WAIT_BEFORE | unix.SYNC_FILE_RANGE_WRITE | unix.SYNC_FILE_RANGE_WAIT_AFTER
		_ = unix.SyncFileRange(int(f.Fd()), int64(off), int64(n), flags)
		_ = unix.Fadvise(int(f.Fd()), int64(off), int64(n), unix.FADV_DONTNEED)
	}
}

// syncSlot is the fdatasync that ends every write.
func syncSlot(d Device, st *Stats) error {
	t0 := time.Now()
	err := d.Sync()
	st.Sync += time.Since(t0)
	if err != nil {
		return fmt.Errorf("slotwrite: fdatasync slot: %w", err)
	}
	return nil
}

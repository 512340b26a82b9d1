package updater

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"lockd.dev/lockd/updater/ubootenv"
)

// chunk is the unit of slot writes and read-back: large enough for the
// medium, small enough that memory stays bounded.
const chunk = 1 << 20

// progressFunc reports the phase of a running install and its percent.
type progressFunc func(op string, pct int)

// writeSlot streams img (whose Read returns io.EOF only once it verified
// size and hash) into the slot at dev, fdatasyncs it, drops the written
// range from the page cache and hashes it again from the medium. The slot
// holds the image only if it returns nil.
func writeSlot(ctx context.Context, st ubootenv.Storage, dev string, img io.Reader, size uint64, sum string, progress progressFunc) error {
	d, err := st.Open(dev, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("updater: open slot: %w", err)
	}
	defer d.Close()
	buf := make([]byte, chunk)
	var off uint64
	last := -1
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("updater: install interrupted: %w", err)
		}
		n, rerr := io.ReadFull(img, buf)
		if n > 0 {
			if off+uint64(n) > size {
				return fmt.Errorf("updater: image longer than its manifest's %d bytes", size)
			}
			if _, err := d.WriteAt(buf[:n], int64(off)); err != nil {
				return fmt.Errorf("updater: write slot at %d: %w", off, err)
			}
			off += uint64(n)
			if p := int(off * 90 / max(size, 1)); p != last {
				progress("writing", p)
				last = p
			}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			// ReadFull turns a short final read into ErrUnexpectedEOF;
			// the image reader's own verdict comes from the next Read.
			if _, err := img.Read(buf[:1]); !errors.Is(err, io.EOF) {
				if err == nil {
					err = errors.New("data after the end")
				}
				return fmt.Errorf("updater: image: %w", err)
			}
			break
		}
		if rerr != nil {
			return fmt.Errorf("updater: image: %w", rerr)
		}
	}
	if off != size {
		return fmt.Errorf("updater: image ended after %d of %d bytes", off, size)
	}
	progress("syncing", 90)
	if err := d.Sync(); err != nil {
		return fmt.Errorf("updater: fdatasync slot: %w", err)
	}
	dropCache(d, int64(size))
	return verifySlot(ctx, d, size, sum, func(p int) { progress("verifying", 90+p/10) })
}

// verifySlot hashes the first size bytes of the slot and compares them
// with sum.
func verifySlot(ctx context.Context, d io.ReaderAt, size uint64, sum string, progress func(int)) error {
	h := sha256.New()
	buf := make([]byte, chunk)
	last := -1
	for off := uint64(0); off < size; {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("updater: verify interrupted: %w", err)
		}
		n := min(uint64(len(buf)), size-off)
		if _, err := d.ReadAt(buf[:n], int64(off)); err != nil {
			return fmt.Errorf("updater: read back slot at %d: %w", off, err)
		}
		h.Write(buf[:n])
		off += n
		if p := int(off * 100 / size); p != last {
			progress(p)
			last = p
		}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return fmt.Errorf("updater: read back slot: sha256 %s, the manifest says %s", got, sum)
	}
	return nil
}

// dropCache asks the kernel to forget the written range, so the read-back
// comes from the medium rather than the page cache.
func dropCache(d any, size int64) {
	if f, ok := d.(interface{ Fd() uintptr }); ok {
		_ = unix.Fadvise(int(f.Fd()), 0, size, unix.FADV_DONTNEED)
	}
}

// lowPriority puts the calling goroutine on its own OS thread at idle I/O
// priority and the lowest CPU priority, so the lock's loop, on other
// threads, always goes first. The thread is discarded when the goroutine
// ends (no UnlockOSThread). Errors are returned for logging only: a
// sandbox may refuse the calls, and an install at normal priority is
// slower for the keypad, not unsafe.
func lowPriority() error {
	runtime.LockOSThread()
	tid := unix.Gettid()
	var errs []error
	if err := unix.Setpriority(unix.PRIO_PROCESS, tid, 19); err != nil {
		errs = append(errs, fmt.Errorf("setpriority: %w", err))
	}
	const ioprioWhoProcess, ioprioClassIdle, ioprioClassShift = 1, 3, 13
	if _, _, e := unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, uintptr(tid), ioprioClassIdle<<ioprioClassShift); e != 0 {
		errs = append(errs, fmt.Errorf("ioprio_set: %w", e))
	}
	return errors.Join(errs...)
}

// slotSize returns the size of a slot device or file.
func slotSize(dev string) (uint64, error) {
	f, err := os.Open(dev)
	if err != nil {
		return 0, fmt.Errorf("updater: slot: %w", err)
	}
	defer f.Close()
	n, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, fmt.Errorf("updater: slot %s: size: %w", dev, err)
	}
	return uint64(n), nil
}

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
)

// chunk is the unit of slot writes and read-back: large enough for the
// medium, small enough that memory stays bounded.
const chunk = 1 << 20

// progressFunc reports the phase of a running install and its percent.
type progressFunc func(op string, pct int)

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

package slotwrite

import (
	"time"

	"lockd.dev/lockd/updater/ubootenv"
)

// Unit is the size of slot writes and ReadUnit of read-back reads: few,
// large system calls, and memory bounded (two write buffers, one read):
// with 4 MiB and 4 MiB lockd's peak RSS passed 48 MiB during 512 MiB
// installs (docs/BENCHMARKS.md), while the writes took 7 % of the time.
const (
	Unit     = 2 << 20
	ReadUnit = 1 << 20
)

// Stats is what one install did, for the log and lockbench.
type Stats struct {
	Mode string // stream, chunked, adaptive
	// Written is the bytes written to the slot (flash wear); BundleRead
	// the stored bytes read from the bundle after the checks.
	Written, BundleRead uint64
	// ReusedTarget and ReusedActive count image bytes not written because
	// the slot already held them, or copied from the active slot.
	ReusedTarget, ReusedActive uint64
	// Busy time of each phase, summed over the goroutines doing it; they
	// overlap, so they add up to more than the wall-clock time.
	Decode, Write, Sync, ReadBack, Scan time.Duration
	// Total is the wall-clock time.
	Total time.Duration
}

// Progress reports the phase of a running install and its percent.
type Progress func(op string, pct int)

// Device is a slot opened for writing.
type Device = ubootenv.Device

// fder is what a real file or device has: the raw descriptor for
// sync_file_range and posix_fadvise. Test devices lack it and skip both.
type fder interface{ Fd() uintptr }

package main

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// written is what lockd logged of one install ("updater: slot written").
type written struct {
	mode                            string
	bytes, bundleRead               uint64
	decode, write, sync, back, scan time.Duration
	total                           time.Duration
}

var logField = regexp.MustCompile(`(\w+)=("[^"]*"|\S+)`)

// lastWrite returns the last "slot written" record in lockd's log.
func lastWrite(stateDir string) (written, error) {
	f, err := os.Open(filepath.Join(stateDir, "lockd.stderr"))
	if err != nil {
		return written{}, err
	}
	defer f.Close()
	var line string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.Contains(sc.Text(), `msg="updater: slot written"`) {
			line = sc.Text()
		}
	}
	if line == "" {
		return written{}, fmt.Errorf("lockd logged no slot write")
	}
	var w written
	for _, m := range logField.FindAllStringSubmatch(line, -1) {
		d, _ := time.ParseDuration(m[2])
		n, _ := strconv.ParseUint(m[2], 10, 64)
		switch m[1] {
		case "mode":
			w.mode = m[2]
		case "written":
			w.bytes = n
		case "bundle_read":
			w.bundleRead = n
		case "decode":
			w.decode = d
		case "write":
			w.write = d
		case "sync":
			w.sync = d
		case "read_back":
			w.back = d
		case "scan":
			w.scan = d
		case "total":
			w.total = d
		}
	}
	return w, nil
}

// spread is "median (min–max)" of ds.
func spread(ds []time.Duration) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	r := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	return fmt.Sprintf("%v (%v–%v)", r(s[len(s)/2]), r(s[0]), r(s[len(s)-1]))
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// discard empties a slot (zeros, fast on a loop device), so that an
// install finds nothing of the image there.
func discard(dev string) error {
	if out, err := exec.Command("blkdiscard", "-f", dev).CombinedOutput(); err != nil {
		return fmt.Errorf("blkdiscard %s: %v\n%s", dev, err, out)
	}
	return nil
}

// installSize installs the same mib-MiB image with lockd and with RAUC
// into the same slot, interleaved (the order alternating each round,
// the slot emptied before each), and reports medians, spreads, the
// ratio, lockd's phases, bundle sizes, bytes written and peak RSS.
func installSize(ctx context.Context, bin, lockctl string, mib, runs int) error {
	u, err := newBenchUnit(ctx, bin, mib)
	if err != nil {
		return err
	}
	defer u.close()
	addr, stopBus, err := privateBus(ctx)
	if err != nil {
		return err
	}
	defer stopBus()
	state := filepath.Join(u.dir, "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		return err
	}
	lockd, _, err := startLockd(ctx, bin, state, "--config", u.conf, "--bus", addr)
	if err != nil {
		return err
	}
	defer stopLockd(lockd)
	var ours, theirs, ratios []time.Duration
	var logs []written
	lockdInstall := func() error {
		if err := discard(u.slots[1]); err != nil {
			return err
		}
		t0 := time.Now()
		if out, err := exec.CommandContext(ctx, lockctl, "--bus", addr, "update", "install", u.bundle).CombinedOutput(); err != nil {
			return fmt.Errorf("lockctl update install: %v\n%s", err, out)
		}
		ours = append(ours, time.Since(t0))
		w, err := lastWrite(state)
		if err != nil {
			return err
		}
		logs = append(logs, w)
		if out, err := exec.CommandContext(ctx, lockctl, "--bus", addr, "update", "reject").CombinedOutput(); err != nil {
			return fmt.Errorf("lockctl update reject: %v\n%s", err, out)
		}
		return nil
	}
	raucInstall := func() error {
		if err := discard(u.slots[1]); err != nil {
			return err
		}
		d, err := u.rauc.install(ctx)
		theirs = append(theirs, d)
		return err
	}
	for i := 0; i < runs; i++ {
		first, second := lockdInstall, raucInstall
		if i%2 == 1 {
			first, second = raucInstall, lockdInstall
		}
		if err := first(); err != nil {
			return err
		}
		if err := second(); err != nil {
			return err
		}
		ratios = append(ratios, time.Duration(float64(ours[i])/float64(theirs[i])*1000)) // per mille
	}
	hwm, err := statusField(lockd.Process.Pid, "VmHWM")
	if err != nil {
		return err
	}
	pick := func(f func(w written) time.Duration) string {
		ds := make([]time.Duration, len(logs))
		for i, w := range logs {
			ds[i] = f(w)
		}
		return median(ds).Round(time.Millisecond).String()
	}
	lb, rb := fileSize(u.bundle), fileSize(u.rauc.bundle)
	fmt.Printf("install %d MiB image, %d interleaved rounds: lockd %s, rauc 1.8 %s; ratio of medians %.2fx, per-round ratio median %.2fx (%.2f–%.2f)\n",
		mib, runs, spread(ours), spread(theirs), float64(median(ours))/float64(median(theirs)),
		float64(median(ratios))/1000, float64(slices.Min(ratios))/1000, float64(slices.Max(ratios))/1000)
	fmt.Printf("  lockd phases (median busy time, overlapping): mode %s, decode %s, write %s, fdatasync %s, read-back %s, slot write total %s (the rest of the %s: checks, D-Bus, lockctl)\n",
		logs[0].mode, pick(func(w written) time.Duration { return w.decode }), pick(func(w written) time.Duration { return w.write }),
		pick(func(w written) time.Duration { return w.sync }), pick(func(w written) time.Duration { return w.back }),
		pick(func(w written) time.Duration { return w.total }), median(ours).Round(time.Millisecond))
	ra := fileSize(u.rauc.adaptiveBundle)
	fmt.Printf("  bundle: lockd %d bytes (indexed: adaptive and streamable); rauc plain %d bytes (%.3fx), rauc verity with block-hash-index (its adaptive bundle) %d bytes (%.3fx)\n",
		lb, rb, float64(lb)/float64(rb), ra, float64(lb)/float64(ra))
	fmt.Printf("  written to the slot per install (flash wear): lockd %d bytes, read from the bundle %d; lockd peak RSS (VmHWM) %s\n",
		logs[0].bytes, logs[0].bundleRead, hwm)
	return nil
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return -1
	}
	return fi.Size()
}

// changePattern is how an update's changed blocks lie in the image: runs
// of run blocks, one run every every blocks (5 % when every is 20 runs).
// sameInB puts v1 in slot B too (the first update after the factory
// wrote both slots) instead of v0, the version before last.
type changePattern struct {
	name       string
	run, every int
	sameInB    bool
}

// changePatterns are what the adaptive bench measures, all 5 % of the
// blocks: spread (16 KiB changed every 320 KiB, so nearly every 256 KiB
// chunk of the bundle holds a change: the worst case for reading the
// bundle) and clustered (1 MiB changed every 20 MiB, as whole files of an
// image change: a binary, a library).
var changePatterns = []changePattern{
	{"spread", 4, 80, false},
	{"clustered", 256, 5120, false},
	{"clustered", 256, 5120, true},
}

// deriveImage writes dst: src with a run of p.run blocks in every
// p.every, from block at, replaced by random bytes.
func deriveImage(src, dst string, p changePattern, at int, seed uint64) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, 14))
	for off := at * 4096; off < len(b); off += p.every * 4096 {
		for i := off; i < min(off+p.run*4096, len(b)); i++ {
			b[i] = byte(rng.Uint32())
		}
	}
	return os.WriteFile(dst, b, 0o600)
}

// copyInto writes the image file img to the start of the slot dev.
func copyInto(img, dev string) error {
	if out, err := exec.Command("dd", "if="+img, "of="+dev, "bs=4M", "conv=fdatasync", "status=none").CombinedOutput(); err != nil {
		return fmt.Errorf("dd %s: %v\n%s", dev, err, out)
	}
	return nil
}

// adaptiveBench: slot A runs v1, slot B holds v0 (the version before;
// v1 with p.sameInB), and v2 changes 5 % of v1's blocks (v0 another 5 %). Interleaved with a
// full install of the same v2 bundle into empty slots, it reports the
// bytes written and read from the bundle, and the time of each.
func adaptiveBench(ctx context.Context, bin, lockctl string, mib, runs int, p changePattern) error {
	u, err := newBenchUnit(ctx, bin, mib)
	if err != nil {
		return err
	}
	defer u.close()
	v0, v2 := filepath.Join(u.dir, "v0.img"), filepath.Join(u.dir, "v2.img")
	// v0's changes lie halfway between v2's.
	if err := deriveImage(u.img, v0, p, p.every/2, 1); err != nil {
		return err
	}
	if err := deriveImage(u.img, v2, p, 0, 2); err != nil {
		return err
	}
	b2 := filepath.Join(u.dir, "v2.lockd")
	if err := u.makeBundle(ctx, bin, v2, "2.1.0", b2); err != nil {
		return err
	}
	addr, stopBus, err := privateBus(ctx)
	if err != nil {
		return err
	}
	defer stopBus()
	state := filepath.Join(u.dir, "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		return err
	}
	lockd, _, err := startLockd(ctx, bin, state, "--config", u.conf, "--bus", addr)
	if err != nil {
		return err
	}
	defer stopLockd(lockd)
	var full, adaptive []time.Duration
	var fw, aw []written
	one := func(times *[]time.Duration, ws *[]written) error {
		t0 := time.Now()
		if out, err := exec.CommandContext(ctx, lockctl, "--bus", addr, "update", "install", b2).CombinedOutput(); err != nil {
			return fmt.Errorf("lockctl update install: %v\n%s", err, out)
		}
		*times = append(*times, time.Since(t0))
		w, err := lastWrite(state)
		if err != nil {
			return err
		}
		*ws = append(*ws, w)
		_, err = exec.CommandContext(ctx, lockctl, "--bus", addr, "update", "reject").CombinedOutput()
		return err
	}
	for i := 0; i < runs; i++ {
		for _, d := range u.slots {
			if err := discard(d); err != nil {
				return err
			}
		}
		if err := one(&full, &fw); err != nil {
			return err
		}
		if err := copyInto(u.img, u.slots[0]); err != nil {
			return err
		}
		inB := v0
		if p.sameInB {
			inB = u.img
		}
		if err := copyInto(inB, u.slots[1]); err != nil {
			return err
		}
		if err := one(&adaptive, &aw); err != nil {
			return err
		}
	}
	size := uint64(mib) << 20
	a := aw[len(aw)-1]
	inB := "v0 (another 5 %)"
	if p.sameInB {
		inB = "v1 too"
	}
	fmt.Printf("adaptive install, %d MiB image, 5 %% of v1's blocks changed (%s: runs of %d KiB every %d KiB), slot B holding %s, %d interleaved rounds:\n",
		mib, p.name, p.run*4, p.every*4, inB, runs)
	fmt.Printf("  adaptive (%s): %s, written to the slot %d bytes (%.1f %% of the image), read from the bundle %d bytes (%.1f %%); scan %v, decode %v, write %v, fdatasync %v, read-back %v\n",
		a.mode, spread(adaptive), a.bytes, 100*float64(a.bytes)/float64(size), a.bundleRead, 100*float64(a.bundleRead)/float64(size),
		a.scan.Round(time.Millisecond), a.decode.Round(time.Millisecond), a.write.Round(time.Millisecond), a.sync.Round(time.Millisecond), a.back.Round(time.Millisecond))
	f := fw[len(fw)-1]
	fmt.Printf("  full (%s, empty slots): %s, written %d bytes, read from the bundle %d bytes; adaptive/full %.2fx\n",
		f.mode, spread(full), f.bytes, f.bundleRead, float64(median(adaptive))/float64(median(full)))
	return nil
}

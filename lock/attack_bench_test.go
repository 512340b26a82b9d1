package lock_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"lockd.dev/lockd/codes"
)

// wchar is the bytes this process has passed to write(2) so far
// (/proc/self/io): SQLite's WAL, database and checkpoint writes.
func wchar(b *testing.B) int64 {
	f, err := os.Open("/proc/self/io")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "wchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatal("no wchar in /proc/self/io")
	return 0
}

// attackDay is a day of someone at the keypad typing an 8-digit entry
// every 2 s without pause, through the core, the audit sink and the real
// SQLite store, on a fake clock. With guest they also hold a valid code
// and type it whenever the next guess would be the Threshold-th wrong one
// in a row. It returns the guesses the store checked.
func (r *attackRig) attackDay(b *testing.B, guest bool) int {
	ctx := context.Background()
	const every = 2 * time.Second
	guesses := 0
	end := r.clk.Now().Add(24 * time.Hour)
	for n := 0; r.clk.Now().Before(end); n++ {
		open := r.c.Status().LockedOutUntil.IsZero()
		st, err := r.store.Status(ctx, r.clk.Now())
		if err != nil {
			b.Fatal(err)
		}
		switch {
		case guest && open && st.Failures == codes.DefaultThreshold-1:
			r.c.StepKeys(rigGuest + "#")
			r.c.StepKeys("#")
		default:
			r.c.StepKeys(fmt.Sprintf("9%07d#", n))
			if open {
				guesses++
			}
		}
		r.clk.Advance(every)
		r.c.StepTimers()
	}
	return guesses
}

// BenchmarkKeypadAttacker measures what a day of keypad attack gets: how
// many guesses the store checks (the expected time to guess a 6-digit
// code follows), and how much the store writes (flash wear). docs/BENCHMARKS.md.
func BenchmarkKeypadAttacker(b *testing.B) {
	for _, guest := range []bool{false, true} {
		name := "no-code"
		if guest {
			name = "with-guest-code"
		}
		b.Run(name, func(b *testing.B) {
			var guesses, writes, bytes int64
			for i := 0; i < b.N; i++ {
				r := newAttackRig(b)
				w0, c0 := r.store.Writes(), wchar(b)
				guesses += int64(r.attackDay(b, guest))
				writes += r.store.Writes() - w0
				bytes += wchar(b) - c0
			}
			perDay := float64(guesses) / float64(b.N)
			b.ReportMetric(perDay, "guesses/day")
			b.ReportMetric(500_000/perDay/365, "years/6-digit-code")
			b.ReportMetric(float64(writes)/float64(b.N)/24, "writes/h")
			b.ReportMetric(float64(bytes)/float64(b.N)/24/1024, "KiB-written/h")
		})
	}
}

package e2e

import (
	"flag"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// pacer runs scenarios at most n at a time (one QEMU a core), and of those
// waiting it admits the lowest rank first: Go starts paused parallel
// subtests in no set order, and the rig finishes soonest when the longest
// scenarios start first.
type pacer struct {
	mu      sync.Mutex
	free    int // slots to hand out
	gate    int // scenarios still to arrive before the first is admitted
	opened  sync.Once
	waiting map[int]chan struct{}
}

// newPacer paces scenarios on GOMAXPROCS slots. Nothing is admitted until
// first scenarios have arrived (or as many as go test runs at a time), so
// the first admissions go by rank too; or, when -run picked fewer, until a
// second after the first arrived.
func newPacer(first int) *pacer {
	if f := flag.Lookup("test.parallel"); f != nil {
		if n, err := strconv.Atoi(f.Value.String()); err == nil && n < first {
			first = n
		}
	}
	return &pacer{free: runtime.GOMAXPROCS(0), gate: first, waiting: map[int]chan struct{}{}}
}

// run calls fn once the scenario of this rank is admitted, and frees its
// slot when fn returns or the scenario fails.
func (p *pacer) run(rank int, fn func()) {
	ch := make(chan struct{})
	p.mu.Lock()
	p.waiting[rank] = ch
	if p.gate > 0 {
		p.gate--
	}
	p.opened.Do(func() {
		time.AfterFunc(time.Second, func() {
			p.mu.Lock()
			p.gate = 0
			p.admit()
			p.mu.Unlock()
		})
	})
	p.admit()
	p.mu.Unlock()
	<-ch
	defer func() {
		p.mu.Lock()
		p.free++
		p.admit()
		p.mu.Unlock()
	}()
	fn()
}

// admit hands free slots to the lowest ranks waiting. p.mu is held.
func (p *pacer) admit() {
	for p.gate == 0 && p.free > 0 && len(p.waiting) > 0 {
		low := -1
		for r := range p.waiting {
			if low < 0 || r < low {
				low = r
			}
		}
		close(p.waiting[low])
		delete(p.waiting, low)
		p.free--
	}
}

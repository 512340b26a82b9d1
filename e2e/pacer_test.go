package e2e

import (
	"runtime"
	"sync"
	"time"
)

// pacer runs scenarios at most GOMAXPROCS at a time (one QEMU a core), and
// of those waiting it admits the lowest rank first: Go starts paused
// parallel subtests in no set order, and the rig finishes soonest when the
// longest scenarios start first. It admits nobody until a second after the
// first scenario arrived, so that the first admissions go by rank too
// (paused subtests all start within milliseconds of each other).
type pacer struct {
	mu      sync.Mutex
	free    int  // slots to hand out
	open    bool // the first second is over
	opening sync.Once
	waiting map[int]chan struct{}
}

func newPacer() *pacer {
	return &pacer{free: runtime.GOMAXPROCS(0), waiting: map[int]chan struct{}{}}
}

// run calls fn once the scenario of this rank is admitted, and frees its
// slot when fn returns or the scenario fails. Ranks are unique.
func (p *pacer) run(rank int, fn func()) {
	ch := make(chan struct{})
	p.mu.Lock()
	p.waiting[rank] = ch
	p.opening.Do(func() {
		time.AfterFunc(time.Second, func() {
			p.mu.Lock()
			p.open = true
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
	for p.open && p.free > 0 && len(p.waiting) > 0 {
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

package gpio

import (
	"context"
	"errors"
	"time"
)

// playing is a Sequence being played.
type playing struct {
	seq        Sequence
	i          int  // next step: Once[i], or Loop[i-len(Once)]
	background bool // this is the background pattern
}

// next returns the next step, or false at the end of a one-shot sequence.
func (p *playing) next() (Step, bool) {
	n := len(p.seq.Once)
	if p.i < n {
		p.i++
		return p.seq.Once[p.i-1], true
	}
	if len(p.seq.Loop) == 0 {
		return Step{}, false
	}
	if p.i >= n+len(p.seq.Loop) {
		p.i = n
	}
	p.i++
	return p.seq.Loop[p.i-1-n], true
}

// Run plays patterns until ctx is done, then switches everything off and
// returns nil. A failing output is logged, not fatal: the lock works
// without its LEDs. Only one Run may run at a time.
func (in *Indicators) Run(ctx context.Context) error {
	in.mu.Lock()
	if in.running {
		in.mu.Unlock()
		return errors.New("gpio: indicators: Run is already running")
	}
	in.running = true
	in.mu.Unlock()
	defer func() {
		in.apply(Step{})
		in.mu.Lock()
		in.running = false
		in.mu.Unlock()
	}()

	cur, _ := in.next(playing{background: true, i: -1})
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		step, ok := cur.next()
		if !ok && !cur.background {
			cur = in.background()
			continue
		}
		in.apply(step)
		var tick <-chan time.Time
		if ok { // else the background ended: hold all off until told
			timer.Reset(step.For)
			tick = timer.C
		}
	wait:
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-in.wake:
				var changed bool
				if cur, changed = in.next(cur); changed {
					timer.Stop()
					break wait
				}
			case <-tick:
				break wait
			}
		}
	}
}

// next returns what to play after a wake-up and whether it differs from
// cur: a pending Show or Beeps, else a changed background if the
// background is playing, else cur. A cur with i == -1 means nothing has
// started yet.
func (in *Indicators) next(cur playing) (playing, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if s := in.pending; s != nil {
		in.pending = nil
		return playing{seq: *s}, true
	}
	if cur.background && (in.bgChanged || cur.i < 0) {
		in.bgChanged = false
		return playing{seq: in.seqs[in.bg], background: true}, true
	}
	return cur, false
}

// background returns the background pattern from its start.
func (in *Indicators) background() playing {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.bgChanged = false
	return playing{seq: in.seqs[in.bg], background: true}
}

// apply sets the outputs to s and reports a change.
func (in *Indicators) apply(s Step) {
	want := [3]bool{s.Green, s.Red, s.Buzzer}
	in.mu.Lock()
	changed := false
	for i, o := range in.outs {
		if o == nil || in.state[i] == want[i] {
			continue
		}
		if err := o.set(want[i]); err != nil {
			if !in.failed[i] {
				in.log.Warn("gpio: indicators: output failed", "err", err)
			}
			in.failed[i] = true
			continue
		}
		in.failed[i] = false
		in.state[i], changed = want[i], true
	}
	state := in.state
	in.mu.Unlock()
	if changed && in.onChange != nil {
		in.onChange(state[0], state[1], state[2])
	}
}

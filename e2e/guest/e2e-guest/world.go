package main

import (
	"fmt"
	"os"
	"sync"
	"time"

	"lockd.dev/lockd/internal/config"
)

// world is the physical world around the lock, acting on the simulated
// chip only through gpio-sim's sysfs files, as wires would: the bolt and
// its motor, the limit switches, the door's reed switch, a Wiegand reader
// or a matrix keypad's columns, and the LEDs and buzzer read back.
//
// An input the world does not drive is an open circuit: it reads what the
// consumer's bias pulls it to. gpio-sim keeps the bias and the world's
// pull in one place, so a consumer's request with a bias overwrites what
// the world did; the world therefore watches the line info of its inputs
// and drives them again after each request or reconfiguration, as a
// closed switch would win over the pull-up at once on a real board.
type world struct {
	c     *chip
	cfg   config.Config
	start time.Time

	mu    sync.Mutex
	drive map[uint32]*bool // driven level; nil: open circuit
	bias  map[uint32]*bool // the consumer's pull-up (true) or pull-down

	// The bolt: pos runs from 0 (locked end) to travel (unlocked end).
	travel time.Duration
	pos    time.Duration
	jam    bool
	// jamLockedSide: the bolt was on the locked side of the obstacle.
	jamLockedSide bool
	doorOpen      bool
	lastStep      time.Time

	limL, limU  uint32
	motor       [2]*output // toward locked, toward unlocked
	outs        []*output
	history     []string
	d0, d1, dor uint32
	cols        []uint32
}

// output is a line lockd drives, read back through `value`.
type output struct {
	name      string
	off       uint32
	f         *os.File
	activeLow bool
	on        bool
}

// boltTravel is how long the bolt takes from one end to the other: well
// inside lockd's travel_timeout_ms (4 s shipped), so only a jam times out.
const boltTravel = 400 * time.Millisecond

func newWorld(c *chip, cfg config.Config, unlocked bool) (*world, error) {
	w := &world{c: c, cfg: cfg, start: time.Now(), travel: boltTravel,
		drive: map[uint32]*bool{}, bias: map[uint32]*bool{}, lastStep: time.Now()}
	if unlocked {
		w.pos = w.travel
	}
	var bad error
	pin := func(name string) uint32 {
		off, err := offset(name)
		if bad == nil {
			bad = err
		}
		return off
	}
	w.limL, w.limU = pin(cfg.Bolt.LimitLocked), pin(cfg.Bolt.LimitUnlocked)
	inputs := []uint32{w.limL, w.limU}
	if cfg.Door.Pin != "" {
		w.dor = pin(cfg.Door.Pin)
		inputs = append(inputs, w.dor)
	}
	if cfg.Keypad.Type == "wiegand" {
		w.d0, w.d1 = pin(cfg.Keypad.D0), pin(cfg.Keypad.D1)
		inputs = append(inputs, w.d0, w.d1)
	} else {
		for _, n := range cfg.Keypad.Cols {
			w.cols = append(w.cols, pin(n))
		}
		inputs = append(inputs, w.cols...)
	}
	outs := [][2]string{{"lock", cfg.Bolt.LockPin}, {"unlock", cfg.Bolt.UnlockPin},
		{"green", cfg.Indicators.Green}, {"red", cfg.Indicators.Red}, {"buzzer", cfg.Indicators.Buzzer}}
	for i, o := range outs {
		if o[1] == "" {
			continue
		}
		out := &output{name: o[0], off: pin(o[1]), activeLow: i < 2 && cfg.Bolt.MotorLowOn}
		if bad != nil {
			return nil, bad
		}
		var err error
		if out.f, err = c.valueFile(out.off); err != nil {
			return nil, err
		}
		w.outs = append(w.outs, out)
		if i < 2 {
			w.motor[i] = out
		}
	}
	if bad != nil {
		return nil, bad
	}
	for _, off := range inputs {
		if err := watch(c.dev, off); err != nil {
			return nil, err
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.switchesLocked()
	return w, nil
}

// setLocked drives line off to level (nil: lets it go). w.mu is held.
func (w *world) setLocked(off uint32, level *bool) error {
	w.drive[off] = level
	if level == nil {
		level = w.bias[off]
	}
	if level == nil {
		return nil // nobody biases it: it keeps what it reads
	}
	return w.c.setPull(off, *level)
}

// closed is the level a closed contact gives a line: its active level.
func closed(activeLow bool) *bool {
	l := !activeLow
	return &l
}

// switchesLocked sets the limit switches and the reed switch from the
// bolt and the door. w.mu is held.
func (w *world) switchesLocked() {
	lowOn := w.cfg.Bolt.LimitLowOn
	set := func(off uint32, on bool, activeLow bool) {
		var want *bool
		if on {
			want = closed(activeLow)
		}
		if cur := w.drive[off]; (cur == nil) != (want == nil) {
			if err := w.setLocked(off, want); err != nil {
				fmt.Fprintln(os.Stderr, err)
			}
		}
	}
	set(w.limL, w.pos == 0, lowOn)
	set(w.limU, w.pos == w.travel, lowOn)
	if w.cfg.Door.Pin != "" {
		set(w.dor, !w.doorOpen, w.cfg.Door.ClosedLow)
	}
}

// watchLines follows lockd's requests of the world's inputs: each time a
// consumer requests or reconfigures one, its bias is noted and whatever
// the world drives on it is driven again.
func (w *world) watchLines() {
	for {
		ev, err := readChanged(w.c.dev)
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e-guest: board: line watch:", err)
			return
		}
		if ev.Event == changedReleased {
			continue
		}
		off := ev.Info.Offset
		w.mu.Lock()
		switch f := ev.Info.Flags; {
		case f&flagPullUp != 0:
			w.bias[off] = closed(false)
		case f&flagPullDown != 0:
			w.bias[off] = closed(true)
		}
		if err := w.setLocked(off, w.drive[off]); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		w.mu.Unlock()
	}
}

// run reads lockd's outputs every tick and moves the bolt as the motor's
// H-bridge inputs say, until the process ends.
func (w *world) run(tick time.Duration) {
	vals := make([]bool, len(w.outs))
	for {
		now := time.Now()
		for i, o := range w.outs {
			v, err := readValue(o.f)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
			}
			vals[i] = v != o.activeLow
		}
		w.mu.Lock()
		// Lines that went off first, then those that went on: one sample
		// that saw lockd release one H-bridge input and drive the other
		// says so in that order, and shows both on only if they were.
		for _, on := range []bool{false, true} {
			for i, o := range w.outs {
				if vals[i] != o.on && vals[i] == on {
					o.on = on
					w.history = append(w.history, fmt.Sprintf("%d %s=%d", now.Sub(w.start).Milliseconds(), o.name, b2i(on)))
				}
			}
		}
		w.stepLocked(now)
		w.mu.Unlock()
		time.Sleep(tick)
	}
}

// stepLocked moves the bolt for the time since the last step. A jam is an
// obstacle at mid-travel: the bolt cannot cross the middle from the side
// it was on when the jam came, and can always go back to its own end.
func (w *world) stepLocked(now time.Time) {
	dt := now.Sub(w.lastStep)
	w.lastStep = now
	toL, toU := w.motor[0] != nil && w.motor[0].on, w.motor[1] != nil && w.motor[1].on
	if toL == toU { // stopped, or a short circuit lockd must never make
		return
	}
	mid, pos := w.travel/2, w.pos
	if toU {
		pos = min(pos+dt, w.travel)
	} else {
		pos = max(pos-dt, 0)
	}
	if w.jam && w.jamLockedSide {
		pos = min(pos, mid)
	} else if w.jam {
		pos = max(pos, mid)
	}
	if pos != w.pos {
		w.pos = pos
		w.switchesLocked()
		if pos == 0 || pos == w.travel {
			w.history = append(w.history, fmt.Sprintf("%d bolt=%s", now.Sub(w.start).Milliseconds(), w.where()))
		}
	}
}

// where says where the bolt is. w.mu is held.
func (w *world) where() string {
	switch w.pos {
	case 0:
		return "locked"
	case w.travel:
		return "unlocked"
	}
	return "between"
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

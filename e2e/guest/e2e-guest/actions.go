package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"lockd.dev/lockd/gpio"
)

// Wiegand timing. A reader holds a data line low for 20-100 µs per bit
// and spaces bits 0.2-20 ms apart; lockd ends a frame after 25 ms of
// silence (gpio.DefaultWiegandGap) and orders the bits of D0 and D1 by
// when its goroutine for each line wakes. The board types at SCHED_IDLE
// (board.go, sched): lockd wakes on each edge and stamps it before the
// board's write that made the edge returns, so the order is never in
// doubt and the board knows bounds of the gaps lockd saw.
const (
	wiegandPulse  = 100 * time.Microsecond
	wiegandBit    = time.Millisecond
	wiegandKeyGap = 100 * time.Millisecond
	// wiegandTries bounds how often one key is typed again.
	wiegandTries = 20
)

// frameFate is what lockd made of a frame, as far as the board can know.
type frameFate int

const (
	frameWhole  frameFate = iota // every gap under lockd's: one frame
	frameCut                     // a gap over lockd's: pieces of 1-3 bits, all rejected
	frameUnsure                  // a gap that may have been either
)

// keys types s on the Wiegand reader, each key a 4-bit frame, as keypads
// send them, and returns when the last bit's falling edge was made and
// how many frames had to be typed again. The emulated CPU is sometimes
// away for longer than lockd's frame gap (the host runs other work):
// lockd then cuts the frame, a 4-bit frame cut anywhere leaves pieces it
// rejects, and the board types the key again. When it cannot tell, it
// lets lockd's entry time out (a * would start a command) and types s
// from the start; for a last key that may have submitted the entry it
// first asks lockd's events whether it did.
func (w *world) keys(s string) (last time.Time, retyped int, err error) {
	if w.cfg.Keypad.Type != "wiegand" {
		return last, 0, errors.New("e2e-guest: board: keys: the keypad is not Wiegand")
	}
	if err := sched(unix.SCHED_IDLE); err != nil {
		return last, 0, err
	}
	defer sched(unix.SCHED_FIFO)
	for tries := 0; tries < wiegandTries; tries++ {
		events := countEvents()
		var fate frameFate
		keys := []rune(s)
		at := 0
		for ; at < len(keys); at++ {
			if last, fate, err = w.key(keys[at], &retyped); err != nil || fate != frameWhole {
				break
			}
		}
		if err != nil || fate == frameWhole {
			return last, retyped, err
		}
		// Either lockd's entry times out meanwhile, or lockd got a last #
		// and judged the entry, which it signals at once.
		time.Sleep(entryTimeout)
		if fate == frameUnsure && at == len(keys)-1 && keys[at] == '#' && countEvents() > events {
			return last, retyped, nil
		}
		retyped++
	}
	return last, retyped, fmt.Errorf("e2e-guest: board: keys: %d tries, none whole", wiegandTries)
}

// countEvents counts lockd's Events so far (e2e-guest watch appends each
// kind to eventsFile) but "refused": lockd refuses each cut frame as a
// bad-frame, which says nothing of the entry (nothing is read from it).
func countEvents() int {
	b, _ := os.ReadFile(eventsFile)
	n := 0
	for _, kind := range strings.Split(string(b), "\n") {
		if kind != "" && kind != "refused" {
			n++
		}
	}
	return n
}

// entryTimeout is a little over lockd's: 5 s without a key clears the
// entry (lock.Config.EntryTimeout).
const entryTimeout = 5500 * time.Millisecond

// key types k until lockd surely got it whole (frameWhole) or maybe did
// (frameUnsure), counting retypes.
func (w *world) key(k rune, retyped *int) (time.Time, frameFate, error) {
	bits, err := gpio.EncodeWiegandKey(gpio.Key(k), 4)
	if err != nil {
		return time.Time{}, frameUnsure, err
	}
	for try := 0; try < wiegandTries; try++ {
		time.Sleep(wiegandKeyGap)
		last, fate, err := w.frame(bits)
		if err != nil || fate != frameCut {
			return last, fate, err
		}
		*retyped++
	}
	return time.Time{}, frameUnsure, fmt.Errorf("e2e-guest: board: keys: %q cut in each of %d frames", k, wiegandTries)
}

// frame sends one frame and says what lockd made of it: each gap lockd
// saw lies between the time from the end of one write to the start of
// the next and the time from the start of one to the end of the next.
func (w *world) frame(bits []bool) (last time.Time, fate frameFate, err error) {
	low := false
	var prevStart, prevEnd time.Time
	for j, one := range bits {
		if j > 0 {
			time.Sleep(wiegandBit)
		}
		line := w.d0
		if one {
			line = w.d1
		}
		w.mu.Lock()
		start := time.Now()
		err := w.setLocked(line, &low)
		end := time.Now()
		w.mu.Unlock()
		if err != nil {
			return last, frameUnsure, err
		}
		if j > 0 {
			switch {
			case start.Sub(prevEnd) >= gpio.DefaultWiegandGap:
				fate = frameCut
			case end.Sub(prevStart) >= gpio.DefaultWiegandGap && fate == frameWhole:
				fate = frameUnsure
			}
		}
		prevStart, prevEnd, last = start, end, start
		time.Sleep(wiegandPulse)
		w.mu.Lock()
		err = w.setLocked(line, nil)
		w.mu.Unlock()
		if err != nil {
			return last, frameUnsure, err
		}
	}
	return last, fate, nil
}

// column holds matrix column i low (as a key in it would while its row
// is scanned) or lets it go.
func (w *world) column(i int, low bool) error {
	if i < 0 || i >= len(w.cols) {
		return fmt.Errorf("e2e-guest: board: no column %d", i)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !low {
		return w.setLocked(w.cols[i], nil)
	}
	level := false
	return w.setLocked(w.cols[i], &level)
}

// do runs one command of the board's control socket and returns its
// output.
func (w *world) do(args []string) (string, error) {
	if len(args) == 0 {
		return "", errors.New("e2e-guest: board: no command")
	}
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	switch args[0] {
	case "keys":
		_, retyped, err := w.keys(arg(1))
		return fmt.Sprintf("E2E-KEYS %s retyped=%d", arg(1), retyped), err
	case "column":
		i, err := strconv.Atoi(arg(1))
		if err != nil {
			return "", fmt.Errorf("e2e-guest: board: column %q", arg(1))
		}
		return "", w.column(i, arg(2) == "low")
	case "door", "jam":
		w.mu.Lock()
		defer w.mu.Unlock()
		if args[0] == "door" {
			w.doorOpen = arg(1) == "open"
		} else {
			w.jam, w.jamLockedSide = arg(1) == "on", w.pos < w.travel/2
		}
		w.history = append(w.history, fmt.Sprintf("%d %s=%s", time.Since(w.start).Milliseconds(), args[0], arg(1)))
		w.switchesLocked()
		return "", nil
	case "state":
		w.mu.Lock()
		defer w.mu.Unlock()
		s := fmt.Sprintf("bolt=%s door=%s jam=%v", w.where(), map[bool]string{true: "open", false: "closed"}[w.doorOpen], w.jam)
		for _, o := range w.outs {
			s += fmt.Sprintf(" %s=%d", o.name, b2i(o.on))
		}
		return s, nil
	case "history":
		w.mu.Lock()
		defer w.mu.Unlock()
		return strings.Join(w.history, "\n"), nil
	case "bench":
		n, err := strconv.Atoi(arg(1))
		if err != nil || arg(2) == "" {
			return "", errors.New("e2e-guest: board: usage: bench N CODE#")
		}
		return w.bench(n, arg(2))
	}
	return "", fmt.Errorf("e2e-guest: board: unknown command %q", args[0])
}

package gpio

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	pgpio "periph.io/x/conn/v3/gpio"
)

// DefaultWiegandGap is the silence that ends a Wiegand frame. Readers
// space bits at most a few milliseconds apart and frames far more.
const DefaultWiegandGap = 25 * time.Millisecond

// maxWiegandBits caps a frame; longer noise is dropped as a bad length.
const maxWiegandBits = 64

// WiegandOptions configure a Wiegand. The zero value is usable.
type WiegandOptions struct {
	// Gap is the silence after which the bits so far are one frame.
	// Zero means DefaultWiegandGap.
	Gap time.Duration
	// Poll bounds each WaitForEdge. Zero means PollInterval.
	Poll time.Duration
	// Logger receives rejected frames (length and reason, never the
	// bits). Nil discards them.
	Logger *slog.Logger
}

// Wiegand reads a Wiegand keypad or card reader on D0 and D1. See Run.
type Wiegand struct {
	d0, d1   pgpio.PinIn
	gap      time.Duration
	poll     time.Duration
	log      *slog.Logger
	running  atomic.Bool
	rejected atomic.Uint64
}

// NewWiegand returns a reader for the data lines d0 and d1. It only
// checks its arguments; pins are configured by Run.
func NewWiegand(d0, d1 pgpio.PinIn, opts WiegandOptions) (*Wiegand, error) {
	if d0 == nil || d1 == nil {
		return nil, errors.New("gpio: wiegand: D0 or D1 pin is nil (not found?)")
	}
	if opts.Gap < 0 || opts.Poll < 0 {
		return nil, fmt.Errorf("gpio: wiegand: negative gap %s or poll %s", opts.Gap, opts.Poll)
	}
	w := &Wiegand{
		d0: d0, d1: d1,
		gap:  cmp.Or(opts.Gap, DefaultWiegandGap),
		poll: cmp.Or(opts.Poll, PollInterval),
		log:  opts.Logger,
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	return w, nil
}

// Rejected returns how many frames were dropped as malformed.
func (w *Wiegand) Rejected() uint64 { return w.rejected.Load() }

type wiegandBit struct {
	t   time.Time
	one bool
}

// Run configures the lines (pull-up, falling edge) and sends one event per
// good frame on events until ctx is cancelled, then returns nil. Keys come
// as presses only (no release); cards with Card set. Time is when the
// frame's last bit arrived. Malformed frames are counted (Rejected),
// logged and sent with Err set and nothing decoded. Run must not be
// called again before it returns.
//
// Each line has its own goroutine that time-stamps each bit as it wakes.
// Bits are ordered by those times and a frame ends where they are Gap
// apart, so a busy loop cannot glue two frames together; both are exact as
// long as the scheduler wakes a goroutine within the reader's bit interval
// (typically 2 ms). periph's WaitForEdge gives no kernel time stamp.
func (w *Wiegand) Run(ctx context.Context, events chan<- KeyEvent) error {
	if !w.running.CompareAndSwap(false, true) {
		return errors.New("gpio: wiegand: Run is already running")
	}
	defer w.running.Store(false)
	for i, p := range []pgpio.PinIn{w.d0, w.d1} {
		if err := p.In(pgpio.PullUp, pgpio.FallingEdge); err != nil {
			return fmt.Errorf("gpio: wiegand: D%d (%s): %w", i, pinName(p), err)
		}
	}
	if w.d0.Read() == pgpio.Low || w.d1.Read() == pgpio.Low {
		w.log.Warn("gpio: wiegand: a data line is Low at rest; check the wiring")
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	bits := make(chan wiegandBit, maxWiegandBits)
	for i, p := range []pgpio.PinIn{w.d0, w.d1} {
		wg.Go(func() {
			watchEdges(ctx, p, w.poll, func(t time.Time) {
				select {
				case bits <- wiegandBit{t, i == 1}:
				case <-ctx.Done():
				}
			}, nil)
		})
	}
	return w.loop(ctx, bits, events)
}

// wiegandFrame is the frame being received.
type wiegandFrame struct {
	bits []wiegandBit // the first maxWiegandBits of them
	n    int          // bits seen, counting those past the cap
	last time.Time    // when the latest bit was seen
}

func (w *Wiegand) loop(ctx context.Context, bits <-chan wiegandBit, events chan<- KeyEvent) error {
	var f wiegandFrame
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case b := <-bits:
			if !w.add(ctx, &f, b, events) {
				return nil
			}
		case <-timer.C:
			// Frames end by when bits were seen, not by when this loop
			// runs: bits already seen but still queued may belong here.
			for pending := true; pending; {
				select {
				case b := <-bits:
					if !w.add(ctx, &f, b, events) {
						return nil
					}
				default:
					pending = false
				}
			}
			if time.Since(f.last) < w.gap {
				break
			}
			if w.emit(ctx, f, events) != nil {
				return nil
			}
			f = wiegandFrame{bits: f.bits[:0]}
			continue
		}
		timer.Reset(w.gap - time.Since(f.last))
	}
}

// add adds b to f, first ending f if b came a gap after f's latest bit. It
// returns false if ctx was cancelled.
func (w *Wiegand) add(ctx context.Context, f *wiegandFrame, b wiegandBit, events chan<- KeyEvent) bool {
	if f.n > 0 && b.t.Sub(f.last) >= w.gap {
		if w.emit(ctx, *f, events) != nil {
			return false
		}
		*f = wiegandFrame{bits: f.bits[:0]}
	}
	if f.n < maxWiegandBits {
		f.bits = append(f.bits, b)
	}
	f.n++
	if b.t.After(f.last) {
		f.last = b.t
	}
	return true
}

// emit decodes a frame and sends its event; a malformed frame is
// counted, logged (its length and fault, never its bits) and sent as an
// event with Err, so the lock can refuse it where the person stands. It
// returns ctx.Err() if cancelled while sending.
func (w *Wiegand) emit(ctx context.Context, f wiegandFrame, events chan<- KeyEvent) error {
	ev, err := w.decode(f.bits, f.n)
	if err != nil {
		w.rejected.Add(1)
		w.log.Warn("gpio: wiegand: frame rejected", "err", err)
		ev = KeyEvent{Err: err, Time: f.last}
	}
	select {
	case events <- ev:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *Wiegand) decode(frame []wiegandBit, n int) (KeyEvent, error) {
	if n > len(frame) {
		return KeyEvent{}, fmt.Errorf("gpio: wiegand: %d-bit frame: %w", n, ErrWiegandLength)
	}
	slices.SortStableFunc(frame, func(a, b wiegandBit) int { return a.t.Compare(b.t) })
	raw := make([]bool, len(frame))
	for i, b := range frame {
		raw[i] = b.one
	}
	ev, err := DecodeWiegand(raw)
	if err != nil {
		return KeyEvent{}, err
	}
	ev.Time = frame[len(frame)-1].t
	return ev, nil
}

package gpio

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	pgpio "periph.io/x/conn/v3/gpio"
)

// Run configures the pins and reports key presses and releases on events
// until ctx is cancelled, then returns nil with every row inactive. It
// returns an error only if a pin cannot be configured or driven. Run must
// not be called again before it returns.
//
// While idle, every row is active and Run sleeps on column edges (one
// goroutine per column, waking every Poll at most). An edge that changes
// which columns read Low starts a debounce wait; then the whole pad is
// scanned, one row at a time, and the result is compared with what was
// reported:
//
//   - One key down, none reported: a press (Down) is sent.
//   - The reported key no longer down: its release is sent.
//   - Two or more keys down: nothing is sent for them, the chord is
//     counted (Rejected) and logged, and no new press is accepted until
//     every key is up. A key held at the time is still released normally.
//     Diode-less pads cannot tell three keys from four (ghosting), so no
//     multi-key reading is trusted.
//
// Each event's Time is when the debounced scan read the keys. Sending on
// events blocks Run (the consumer must keep reading); edges meanwhile are
// not lost, levels are re-read after the send.
//
// A key pressed in the same column as a held key makes no edge, so it is
// seen only at the next scan; the rules above make it harmless.
func (m *Matrix) Run(ctx context.Context, events chan<- KeyEvent) (err error) {
	if !m.running.CompareAndSwap(false, true) {
		return errors.New("gpio: matrix: Run is already running")
	}
	defer m.running.Store(false)
	for i, c := range m.cols {
		if err := c.In(pgpio.PullUp, pgpio.BothEdges); err != nil {
			return fmt.Errorf("gpio: matrix: column %d (%s): %w", i, pinName(c), err)
		}
	}
	defer func() {
		if rerr := m.setRows(pgpio.High); err == nil {
			err = rerr
		}
	}()
	if err := m.setRows(pgpio.Low); err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	// Edges are only hints to look at the levels, so one pending wakeup
	// stands for any number of edges. Column 0's poll timeouts wake the
	// loop too: a lost edge (overrun queue) then costs at most one Poll.
	wake := make(chan struct{}, 1)
	poke := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	for i, c := range m.cols {
		idle := poke // one column's timeouts are enough of a safety net
		if i > 0 {
			idle = nil
		}
		wg.Go(func() { watchEdges(ctx, c, m.poll, func(time.Time) { poke() }, idle) })
	}
	poke() // a key may be down already
	return m.loop(ctx, wake, events)
}

func (m *Matrix) loop(ctx context.Context, wake <-chan struct{}, events chan<- KeyEvent) error {
	var (
		held  bool // the last scan found a key down
		down  Key  // the key reported down, 0 if none
		chord bool // several keys were down since all were last up
		timer = time.NewTimer(time.Hour)
	)
	timer.Stop()
	defer timer.Stop()
	for {
		if !held {
			// Idle: sleep until a column edge, then give the contact
			// the debounce period to settle.
			select {
			case <-ctx.Done():
				return nil
			case <-wake:
			}
			if m.columns() == 0 {
				continue // a glitch, or the edges of our own last scan
			}
		}
		// With a key down, look again every debounce period whether or
		// not an edge came: a release and a new press in the same column
		// leave the column levels as they were, and our own scans make
		// edges of their own, so edges cannot be trusted to say when.
		// That is one scan (microseconds) per 20 ms while a key is held,
		// and none at all when idle.
		timer.Reset(m.debounce)
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		select { // the scan below covers every edge so far
		case <-wake:
		default:
		}
		keys, t, err := m.scan()
		if err != nil {
			return err
		}
		// Whether to keep scanning comes from the scan itself: a separate
		// read of the columns could see a release the scan did not, and
		// the loop would then wait for an edge that has already come and
		// gone, missing the release and the next press of the same key.
		held = len(keys) > 0

		var out [2]KeyEvent
		n := 0
		if down != 0 && !containsKey(keys, down) {
			out[n] = KeyEvent{Key: down, Down: false, Time: t}
			n++
			down = 0
		}
		switch {
		case len(keys) == 0:
			chord = false
		case len(keys) > 1:
			if !chord {
				m.rejected.Add(1)
				m.log.Warn("gpio: matrix: several keys down at once, ignoring them", "count", len(keys))
			}
			chord = true
		case down == 0 && !chord:
			down = keys[0]
			out[n] = KeyEvent{Key: down, Down: true, Time: t}
			n++
		}
		for _, ev := range out[:n] {
			select {
			case events <- ev:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// scan returns the keys down, reading one row at a time, and the time of
// the reading. It leaves every row active. The slice is reused.
func (m *Matrix) scan() ([]Key, time.Time, error) {
	m.found = m.found[:0]
	if err := m.setRows(pgpio.High); err != nil {
		return nil, time.Time{}, err
	}
	for r, row := range m.rows {
		if err := row.Out(pgpio.Low); err != nil {
			return nil, time.Time{}, fmt.Errorf("gpio: matrix: row %d (%s): %w", r, pinName(row), err)
		}
		m.wait()
		for c, col := range m.cols {
			if col.Read() == pgpio.Low {
				m.found = append(m.found, m.keys[r][c])
			}
		}
		if err := row.Out(pgpio.High); err != nil {
			return nil, time.Time{}, fmt.Errorf("gpio: matrix: row %d (%s): %w", r, pinName(row), err)
		}
	}
	t := time.Now()
	if err := m.setRows(pgpio.Low); err != nil {
		return nil, time.Time{}, err
	}
	m.wait()
	return m.found, t, nil
}

// columns returns a bit mask of the columns reading Low.
func (m *Matrix) columns() uint64 {
	var mask uint64
	for c, col := range m.cols {
		if col.Read() == pgpio.Low {
			mask |= 1 << c
		}
	}
	return mask
}

func (m *Matrix) setRows(l pgpio.Level) error {
	for r, row := range m.rows {
		if err := row.Out(l); err != nil {
			return fmt.Errorf("gpio: matrix: row %d (%s): %w", r, pinName(row), err)
		}
	}
	return nil
}

// wait lets the lines settle. It spins: the wait is microseconds, far
// below what a timer can sleep, and happens only during a scan.
func (m *Matrix) wait() {
	for start := time.Now(); time.Since(start) < m.settle; {
	}
}

func containsKey(keys []Key, k Key) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

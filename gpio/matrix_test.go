package gpio_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/gpio/sim"
	pgpio "periph.io/x/conn/v3/gpio"
)

// Test timings: short, but long enough that a busy machine running the
// race detector does not lose a tap.
const (
	testDebounce = 5 * time.Millisecond
	testPoll     = 20 * time.Millisecond
	testWait     = 2 * time.Second // for an event that must come
)

type matrixRig struct {
	pad    *sim.Matrix
	drv    *gpio.Matrix
	events chan gpio.KeyEvent
	stop   func() error // cancels Run and returns its error
}

func startMatrix(t *testing.T, layout string, opts gpio.MatrixOptions) *matrixRig {
	t.Helper()
	pad, err := sim.NewMatrix(layout)
	if err != nil {
		t.Fatal(err)
	}
	opts.Layout = layout
	opts.Debounce = max(opts.Debounce, testDebounce)
	opts.Poll = testPoll
	drv, err := gpio.NewMatrix(pad.Rows(), pad.Cols(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return runMatrix(t, pad, drv)
}

func runMatrix(t *testing.T, pad *sim.Matrix, drv *gpio.Matrix) *matrixRig {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	events := make(chan gpio.KeyEvent, 16)
	done := make(chan error, 1)
	go func() { done <- drv.Run(ctx, events) }()
	var stopped bool
	var runErr error
	stop := func() error {
		if !stopped {
			stopped = true
			cancel()
			runErr = <-done
		}
		return runErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return &matrixRig{pad: pad, drv: drv, events: events, stop: stop}
}

// expect waits for the next event and checks it is key going down or up.
func expect(t *testing.T, events <-chan gpio.KeyEvent, key gpio.Key, down bool) gpio.KeyEvent {
	t.Helper()
	select {
	case ev := <-events:
		if ev.Key != key || ev.Down != down || ev.Card != nil {
			t.Fatalf("got event %q down=%t card=%v, want %q down=%t", ev.Key, ev.Down, ev.Card, key, down)
		}
		return ev
	case <-time.After(testWait):
		t.Fatalf("no event, want %q down=%t", key, down)
	}
	return gpio.KeyEvent{}
}

// expectNone checks that no event comes within d.
func expectNone(t *testing.T, events <-chan gpio.KeyEvent, d time.Duration) {
	t.Helper()
	select {
	case ev := <-events:
		t.Fatalf("unexpected event %q down=%t card=%v", ev.Key, ev.Down, ev.Card)
	case <-time.After(d):
	}
}

func TestMatrixEveryKey(t *testing.T) {
	for _, layout := range []string{gpio.Layout3x4, gpio.Layout4x4, "12/34"} {
		t.Run(layout, func(t *testing.T) {
			rig := startMatrix(t, layout, gpio.MatrixOptions{})
			for _, k := range []byte(strings.ReplaceAll(layout, "/", "")) {
				before := time.Now()
				if err := rig.pad.Press(k); err != nil {
					t.Fatal(err)
				}
				ev := expect(t, rig.events, gpio.Key(k), true)
				if ev.Time.Sub(before) < testDebounce || ev.Time.After(time.Now()) {
					t.Errorf("key %q: Time %s after the press, want at least the debounce", k, ev.Time.Sub(before))
				}
				if err := rig.pad.Release(k); err != nil {
					t.Fatal(err)
				}
				expect(t, rig.events, gpio.Key(k), false)
			}
			if n := rig.drv.Rejected(); n != 0 {
				t.Errorf("Rejected() = %d, want 0", n)
			}
		})
	}
}

func TestMatrixType(t *testing.T) {
	for _, layout := range []string{gpio.Layout3x4, gpio.Layout4x4} {
		t.Run(layout, func(t *testing.T) {
			rig := startMatrix(t, layout, gpio.MatrixOptions{})
			keys := strings.ReplaceAll(layout, "/", "")
			typed := make(chan error, 1)
			// Holds of 150 ms: make test runs -race and the arm64 tests side by
			// side on two cores, and a scanner goroutine parked for a 60 ms
			// hold missed the key ("got 7, want 6").
			go func() { typed <- rig.pad.Type(t.Context(), keys, 150*time.Millisecond, 30*time.Millisecond) }()
			for _, k := range []byte(keys) {
				expect(t, rig.events, gpio.Key(k), true)
				expect(t, rig.events, gpio.Key(k), false)
			}
			if err := <-typed; err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestMatrixDebounce(t *testing.T) {
	// 0.5 ms chatter against a 40 ms debounce: the chatter is a blip only
	// while the simulator's goroutine runs on time, and on a loaded test
	// machine a 15 ms debounce saw a release's blip stretched into a
	// press ("got 5, want #").
	rig := startMatrix(t, gpio.Layout3x4, gpio.MatrixOptions{Debounce: 40 * time.Millisecond})
	rig.pad.Bounce, rig.pad.BounceGap = 4, 500*time.Microsecond
	for _, k := range []byte("5#") {
		if err := rig.pad.Tap(t.Context(), k, 150*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		expect(t, rig.events, gpio.Key(k), true)
		expect(t, rig.events, gpio.Key(k), false)
	}
	expectNone(t, rig.events, 100*time.Millisecond)
}

func TestMatrixGlitchIgnored(t *testing.T) {
	rig := startMatrix(t, gpio.Layout3x4, gpio.MatrixOptions{Debounce: 30 * time.Millisecond})
	// A contact shorter than the debounce is noise, not a press.
	if err := rig.pad.Tap(t.Context(), '5', time.Millisecond); err != nil {
		t.Fatal(err)
	}
	expectNone(t, rig.events, 100*time.Millisecond)
	if err := rig.pad.Press('6'); err != nil {
		t.Fatal(err)
	}
	expect(t, rig.events, '6', true)
}

func TestMatrixSeveralKeys(t *testing.T) {
	tests := []struct {
		name string
		keys string // pressed together
	}{
		{"same row", "12"},
		{"same column", "14"},
		{"diagonal", "15"},
		{"ghost corner", "124"}, // reads as 1245 on a diode-less pad
		{"three rows", "369"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rig := startMatrix(t, gpio.Layout3x4, gpio.MatrixOptions{Debounce: 20 * time.Millisecond})
			for _, k := range []byte(tt.keys) {
				if err := rig.pad.Press(k); err != nil {
					t.Fatal(err)
				}
			}
			expectNone(t, rig.events, 60*time.Millisecond)
			for _, k := range []byte(tt.keys) {
				if err := rig.pad.Release(k); err != nil {
					t.Fatal(err)
				}
			}
			expectNone(t, rig.events, 60*time.Millisecond)
			if n := rig.drv.Rejected(); n != 1 {
				t.Errorf("Rejected() = %d, want 1", n)
			}
			// The pad works again once every key is up.
			if err := rig.pad.Press('0'); err != nil {
				t.Fatal(err)
			}
			expect(t, rig.events, '0', true)
		})
	}
}

func TestMatrixRollover(t *testing.T) {
	rig := startMatrix(t, gpio.Layout3x4, gpio.MatrixOptions{})
	steps := []struct {
		press, release byte
		want           gpio.Key // 0: no event
		down           bool
	}{
		{press: '1', want: '1', down: true},
		{press: '5'},                           // second key while 1 is held: ignored
		{release: '1', want: '1', down: false}, // 1 still releases
		{release: '5'},                         // 5 was never reported
		{press: '2', want: '2', down: true},    // all up: accepted again
		{release: '2', want: '2', down: false},
	}
	for _, s := range steps {
		var err error
		if s.press != 0 {
			err = rig.pad.Press(s.press)
		} else {
			err = rig.pad.Release(s.release)
		}
		if err != nil {
			t.Fatal(err)
		}
		if s.want == 0 {
			expectNone(t, rig.events, 50*time.Millisecond)
		} else {
			expect(t, rig.events, s.want, s.down)
		}
	}
	if n := rig.drv.Rejected(); n != 1 {
		t.Errorf("Rejected() = %d, want 1", n)
	}
}

func TestMatrixKeyDownAtStart(t *testing.T) {
	pad, err := sim.NewMatrix(gpio.Layout3x4)
	if err != nil {
		t.Fatal(err)
	}
	if err := pad.Press('8'); err != nil {
		t.Fatal(err)
	}
	drv, err := gpio.NewMatrix(pad.Rows(), pad.Cols(), gpio.MatrixOptions{Debounce: testDebounce, Poll: testPoll})
	if err != nil {
		t.Fatal(err)
	}
	rig := runMatrix(t, pad, drv)
	expect(t, rig.events, '8', true)
	if err := pad.Release('8'); err != nil {
		t.Fatal(err)
	}
	expect(t, rig.events, '8', false)
}

func TestMatrixCancel(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, rig *matrixRig)
	}{
		{"idle", func(*testing.T, *matrixRig) {}},
		{"key held", func(t *testing.T, rig *matrixRig) {
			_ = rig.pad.Press('5')
			expect(t, rig.events, '5', true)
		}},
		{"debouncing", func(t *testing.T, rig *matrixRig) { _ = rig.pad.Press('5') }},
		{"consumer not reading", func(t *testing.T, rig *matrixRig) {
			for _, k := range []byte("123456789*0#123456789*0#") { // more than the channel holds
				_ = rig.pad.Press(k)
				time.Sleep(2 * testDebounce)
				_ = rig.pad.Release(k)
				time.Sleep(2 * testDebounce)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rig := startMatrix(t, gpio.Layout3x4, gpio.MatrixOptions{Debounce: 50 * time.Millisecond})
			tt.setup(t, rig)
			start := time.Now()
			if err := rig.stop(); err != nil {
				t.Fatalf("Run: %v, want nil on cancel", err)
			}
			if d := time.Since(start); d > testPoll+100*time.Millisecond {
				t.Errorf("Run took %s to return, want about the poll interval %s", d, testPoll)
			}
			for i, p := range rig.pad.RowPins() {
				if l, ok := p.OutLevel(); !ok || l != pgpio.High {
					t.Errorf("row %d after Run: %s, output %t; want inactive (High)", i, l, ok)
				}
			}
		})
	}
}

func TestMatrixRunTwice(t *testing.T) {
	rig := startMatrix(t, gpio.Layout3x4, gpio.MatrixOptions{})
	// Make sure the first Run has started.
	_ = rig.pad.Press('1')
	expect(t, rig.events, '1', true)
	err := rig.drv.Run(t.Context(), rig.events)
	if err == nil || !strings.HasPrefix(err.Error(), "gpio: ") {
		t.Fatalf("second Run: %v, want a gpio: error", err)
	}
}

func TestNewMatrixErrors(t *testing.T) {
	pad, err := sim.NewMatrix(sim.Layout4x4)
	if err != nil {
		t.Fatal(err)
	}
	rows, cols := pad.Rows(), pad.Cols()
	tests := []struct {
		name     string
		rows     []pgpio.PinOut
		cols     []pgpio.PinIn
		opts     gpio.MatrixOptions
		isLayout bool
	}{
		{name: "no rows", cols: cols},
		{name: "no columns", rows: rows},
		{name: "nil row", rows: []pgpio.PinOut{rows[0], nil, rows[2], rows[3]}, cols: cols},
		{name: "nil column", rows: rows, cols: []pgpio.PinIn{cols[0], cols[1], nil, cols[3]}},
		{name: "no default layout", rows: rows[:2], cols: cols, isLayout: true},
		{name: "layout rows", rows: rows[:3], cols: cols[:3], opts: gpio.MatrixOptions{Layout: gpio.Layout3x4}, isLayout: true},
		{name: "layout columns", rows: rows, cols: cols, opts: gpio.MatrixOptions{Layout: gpio.Layout3x4}, isLayout: true},
		{name: "ragged layout", rows: rows[:2], cols: cols[:2], opts: gpio.MatrixOptions{Layout: "12/345"}, isLayout: true},
		{name: "repeated key", rows: rows[:2], cols: cols[:2], opts: gpio.MatrixOptions{Layout: "12/31"}, isLayout: true},
		{name: "negative debounce", rows: rows, cols: cols, opts: gpio.MatrixOptions{Debounce: -1}},
		{name: "negative poll", rows: rows, cols: cols, opts: gpio.MatrixOptions{Poll: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := gpio.NewMatrix(tt.rows, tt.cols, tt.opts)
			if err == nil {
				t.Fatalf("NewMatrix = %v, nil; want an error", m)
			}
			if !strings.HasPrefix(err.Error(), "gpio: ") {
				t.Errorf("error %q does not start with gpio:", err)
			}
			if got := errors.Is(err, gpio.ErrLayout); got != tt.isLayout {
				t.Errorf("errors.Is(%q, ErrLayout) = %t, want %t", err, got, tt.isLayout)
			}
		})
	}
}

// TestMatrixSameColumnSwap: a key released and another key of the same
// column pressed within one debounce period leaves the column levels as
// they were, yet both the release and the new press must be reported.
func TestMatrixSameColumnSwap(t *testing.T) {
	rig := startMatrix(t, gpio.Layout3x4, gpio.MatrixOptions{})
	for _, pair := range [][2]byte{{'#', '3'}, {'1', '4'}, {'0', '8'}} {
		if err := rig.pad.Press(pair[0]); err != nil {
			t.Fatal(err)
		}
		expect(t, rig.events, gpio.Key(pair[0]), true)
		rig.pad.Release(pair[0])
		rig.pad.Press(pair[1]) // same column, well inside the debounce
		expect(t, rig.events, gpio.Key(pair[0]), false)
		expect(t, rig.events, gpio.Key(pair[1]), true)
		rig.pad.Release(pair[1])
		expect(t, rig.events, gpio.Key(pair[1]), false)
	}
}

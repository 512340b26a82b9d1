package gpio

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	pgpio "periph.io/x/conn/v3/gpio"
)

// Keypad layouts: rows top to bottom, separated by '/'.
const (
	Layout3x4 = "123/456/789/*0#"
	Layout4x4 = "123A/456B/789C/*0#D"
)

// Matrix keypad defaults.
const (
	// DefaultMatrixDebounce outlasts the bounce of membrane and dome switches
	// (typically under 10 ms) while staying imperceptible to a user.
	DefaultMatrixDebounce = 20 * time.Millisecond
	// DefaultMatrixSettle is how long a scan waits after activating a row
	// before reading the columns: a column released through a ~50 kΩ
	// internal pull-up and a ribbon cable needs a few microseconds to
	// rise. Without it a key that was just in an active row can read as
	// a second key.
	DefaultMatrixSettle = 10 * time.Microsecond
)

// MatrixOptions configure a Matrix. The zero value is usable.
type MatrixOptions struct {
	// Layout names the keys, rows top to bottom separated by '/', e.g.
	// Layout3x4. Empty picks Layout3x4 for 4 rows x 3 columns and
	// Layout4x4 for 4x4.
	Layout string
	// Debounce is how long after a column edge the keys are scanned.
	// Zero means DefaultMatrixDebounce.
	Debounce time.Duration
	// Settle is the wait between activating a row and reading the
	// columns. Zero means DefaultMatrixSettle, negative means none.
	Settle time.Duration
	// Poll bounds each WaitForEdge, and so how long Run takes to return
	// after its context is cancelled. Zero means PollInterval.
	Poll time.Duration
	// Logger receives warnings (never which keys were pressed). Nil
	// discards them.
	Logger *slog.Logger
}

// Matrix scans a diode-less matrix keypad: rows are outputs, active Low
// (inactive High); columns are inputs with pull-ups. See Run.
type Matrix struct {
	rows     []pgpio.PinOut
	cols     []pgpio.PinIn
	keys     [][]Key
	debounce time.Duration
	settle   time.Duration
	poll     time.Duration
	log      *slog.Logger

	running  atomic.Bool
	rejected atomic.Uint64
	found    []Key // scratch for scan, used by Run only
}

// NewMatrix returns a scanner for a keypad wired to rows and cols. It only
// checks its arguments; pins are configured by Run.
func NewMatrix(rows []pgpio.PinOut, cols []pgpio.PinIn, opts MatrixOptions) (*Matrix, error) {
	if len(rows) == 0 || len(cols) == 0 {
		return nil, fmt.Errorf("gpio: matrix: need rows and columns, have %d rows and %d columns", len(rows), len(cols))
	}
	if len(cols) > 64 {
		return nil, fmt.Errorf("gpio: matrix: %d columns, at most 64", len(cols))
	}
	for i, p := range rows {
		if p == nil {
			return nil, fmt.Errorf("gpio: matrix: row %d: pin is nil (not found?)", i)
		}
	}
	for i, p := range cols {
		if p == nil {
			return nil, fmt.Errorf("gpio: matrix: column %d: pin is nil (not found?)", i)
		}
	}
	if opts.Debounce < 0 || opts.Poll < 0 {
		return nil, fmt.Errorf("gpio: matrix: negative debounce %s or poll %s", opts.Debounce, opts.Poll)
	}
	keys, err := parseLayout(opts.Layout, len(rows), len(cols))
	if err != nil {
		return nil, err
	}
	m := &Matrix{
		rows:     append([]pgpio.PinOut(nil), rows...),
		cols:     append([]pgpio.PinIn(nil), cols...),
		keys:     keys,
		debounce: cmp.Or(opts.Debounce, DefaultMatrixDebounce),
		settle:   max(cmp.Or(opts.Settle, DefaultMatrixSettle), 0),
		poll:     cmp.Or(opts.Poll, PollInterval),
		log:      opts.Logger,
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	return m, nil
}

// Rejected returns how many times two or more keys were found down at
// once and ignored.
func (m *Matrix) Rejected() uint64 { return m.rejected.Load() }

// ErrLayout is wrapped by NewMatrix when the layout does not fit the pins.
var ErrLayout = errors.New("gpio: bad keypad layout")

func parseLayout(layout string, nrows, ncols int) ([][]Key, error) {
	if layout == "" {
		switch {
		case nrows == 4 && ncols == 3:
			layout = Layout3x4
		case nrows == 4 && ncols == 4:
			layout = Layout4x4
		default:
			return nil, fmt.Errorf("gpio: matrix: no default layout for %d rows x %d columns: %w", nrows, ncols, ErrLayout)
		}
	}
	lines := strings.Split(layout, "/")
	if len(lines) != nrows {
		return nil, fmt.Errorf("gpio: matrix: layout %q has %d rows, %d row pins given: %w", layout, len(lines), nrows, ErrLayout)
	}
	seen := map[byte]bool{}
	keys := make([][]Key, nrows)
	for r, line := range lines {
		if len(line) != ncols {
			return nil, fmt.Errorf("gpio: matrix: layout %q row %d has %d keys, %d column pins given: %w", layout, r, len(line), ncols, ErrLayout)
		}
		for c := range len(line) {
			k := line[c]
			if k == 0 || seen[k] {
				return nil, fmt.Errorf("gpio: matrix: layout %q: key %q is zero or repeated: %w", layout, k, ErrLayout)
			}
			seen[k] = true
			keys[r] = append(keys[r], Key(k))
		}
	}
	return keys, nil
}

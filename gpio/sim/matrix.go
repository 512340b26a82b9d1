package sim

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Common keypad layouts: rows top to bottom, separated by '/'. They match
// the driver's defaults in package gpio.
const (
	Layout3x4 = "123/456/789/*0#"
	Layout4x4 = "123A/456B/789C/*0#D"
)

// Matrix is a diode-less matrix keypad: one switch per key between a row
// line and a column line. Hand Rows to the driver as outputs and Cols as
// inputs.
//
// Electrically, the rows and columns joined by pressed keys form one net.
// A net is Low if any output on it drives Low, else High if any output
// drives High, else it floats and each input on it follows its own pull.
// Low wins, as it does on a keypad scanned with open-drain rows (and, out
// of spec, with push-pull rows shorting each other); it is what makes
// ghosting real: with three corners of a rectangle pressed, the fourth
// reads as pressed too.
type Matrix struct {
	// Bounce, if positive, makes Tap and Type (not Press and Release) make
	// and break contact this many extra times, BounceGap apart, before
	// the contact settles. Set it before use.
	Bounce    int
	BounceGap time.Duration

	keys       [][]byte
	rows, cols []*Pin

	mu   sync.Mutex // serialises updates to the lines
	down [][]bool
}

// NewMatrix returns a keypad with the given layout (see Layout3x4) and
// every key up. Its row pins are named ROW0.., its column pins COL0...
func NewMatrix(layout string) (*Matrix, error) {
	if layout == "" {
		return nil, fmt.Errorf("sim: matrix: empty layout")
	}
	m := &Matrix{}
	seen := map[byte]bool{}
	for r, row := range strings.Split(layout, "/") {
		if r > 0 && len(row) != len(m.keys[0]) {
			return nil, fmt.Errorf("sim: matrix: layout %q: row %d has %d keys, row 0 has %d", layout, r, len(row), len(m.keys[0]))
		}
		if row == "" {
			return nil, fmt.Errorf("sim: matrix: layout %q: row %d is empty", layout, r)
		}
		for i := range len(row) {
			if seen[row[i]] {
				return nil, fmt.Errorf("sim: matrix: layout %q: key %q twice", layout, row[i])
			}
			seen[row[i]] = true
		}
		m.keys = append(m.keys, []byte(row))
		m.down = append(m.down, make([]bool, len(row)))
	}
	for r := range m.keys {
		m.rows = append(m.rows, m.newPin(fmt.Sprintf("ROW%d", r), r))
	}
	for c := range m.keys[0] {
		m.cols = append(m.cols, m.newPin(fmt.Sprintf("COL%d", c), len(m.keys)+c))
	}
	return m, nil
}

func (m *Matrix) newPin(name string, num int) *Pin {
	p := NewPin(name, num)
	p.OnOut = func(gpio.Level) { m.update() }
	return p
}

// Rows returns the row lines, top to bottom, for the driver to drive.
func (m *Matrix) Rows() []gpio.PinOut {
	out := make([]gpio.PinOut, len(m.rows))
	for i, p := range m.rows {
		out[i] = p
	}
	return out
}

// Cols returns the column lines, left to right, for the driver to read.
func (m *Matrix) Cols() []gpio.PinIn {
	out := make([]gpio.PinIn, len(m.cols))
	for i, p := range m.cols {
		out[i] = p
	}
	return out
}

// RowPins returns the row lines as simulated pins, for inspection.
func (m *Matrix) RowPins() []*Pin { return append([]*Pin(nil), m.rows...) }

// ColPins returns the column lines as simulated pins, for inspection.
func (m *Matrix) ColPins() []*Pin { return append([]*Pin(nil), m.cols...) }

// Press closes the contact of key at once, without bounce.
func (m *Matrix) Press(key byte) error { return m.set(key, true) }

// Release opens the contact of key at once, without bounce.
func (m *Matrix) Release(key byte) error { return m.set(key, false) }

// Down returns the keys whose contacts are closed, in layout order.
func (m *Matrix) Down() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	for r, row := range m.down {
		for c, d := range row {
			if d {
				b.WriteByte(m.keys[r][c])
			}
		}
	}
	return b.String()
}

func (m *Matrix) find(key byte) (r, c int, err error) {
	for r, row := range m.keys {
		for c, k := range row {
			if k == key {
				return r, c, nil
			}
		}
	}
	return 0, 0, fmt.Errorf("sim: matrix: no key %q on this keypad", key)
}

func (m *Matrix) set(key byte, down bool) error {
	r, c, err := m.find(key)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.down[r][c] = down
	m.settle()
	return nil
}

func (m *Matrix) update() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.settle()
}

// settle recomputes every net and sets every line that is not an output
// to its net's level. Call with m.mu held.
func (m *Matrix) settle() {
	nr := len(m.rows)
	pins := append(append(make([]*Pin, 0, nr+len(m.cols)), m.rows...), m.cols...)
	// Union-find over rows (0..nr-1) and columns (nr..) joined by keys.
	parent := make([]int, len(pins))
	for i := range parent {
		parent[i] = i
	}
	root := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for r, row := range m.down {
		for c, d := range row {
			if d {
				parent[root(r)] = root(nr + c)
			}
		}
	}
	const none, high, low = 0, 1, 2
	drive := make([]int, len(pins))
	for i, p := range pins {
		if l, ok := p.OutLevel(); ok {
			n := root(i)
			if l == gpio.Low {
				drive[n] = low
			} else if drive[n] == none {
				drive[n] = high
			}
		}
	}
	for i, p := range pins {
		switch drive[root(i)] {
		case low:
			p.Drive(gpio.Low)
		case high:
			p.Drive(gpio.High)
		default:
			p.Release()
		}
	}
}

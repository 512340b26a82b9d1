package sim

import (
	"context"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// columnsLow drives row active (Low, the others High) and returns which
// columns read Low, as a string of column numbers.
func columnsLow(t *testing.T, m *Matrix, active int) string {
	t.Helper()
	for _, c := range m.Cols() {
		if err := c.In(gpio.PullUp, gpio.BothEdges); err != nil {
			t.Fatal(err)
		}
	}
	for r, row := range m.Rows() {
		l := gpio.High
		if r == active {
			l = gpio.Low
		}
		if err := row.Out(l); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	for c, col := range m.Cols() {
		if col.Read() == gpio.Low {
			b.WriteByte(byte('0' + c))
		}
	}
	return b.String()
}

func TestMatrixElectrical(t *testing.T) {
	tests := []struct {
		name string
		down string
		row  int
		want string // columns reading Low with only row active
	}{
		{"nothing down", "", 0, ""},
		{"key in active row", "2", 0, "1"},
		{"key in another row", "5", 0, ""},
		{"two keys, one row", "13", 0, "02"},
		{"ghost", "124", 1, "01"}, // row 1 reaches column 1 through 4-1-2
		{"no ghost without the corner", "12", 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewMatrix(Layout3x4)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range []byte(tt.down) {
				if err := m.Press(k); err != nil {
					t.Fatal(err)
				}
			}
			if got := columnsLow(t, m, tt.row); got != tt.want {
				t.Errorf("keys %q down, row %d active: columns %q read Low, want %q", tt.down, tt.row, got, tt.want)
			}
		})
	}
}

func TestMatrixEdges(t *testing.T) {
	m, err := NewMatrix(Layout3x4)
	if err != nil {
		t.Fatal(err)
	}
	if got := columnsLow(t, m, 2); got != "" {
		t.Fatalf("columns %q Low with no key down", got)
	}
	col := m.ColPins()[1]
	_ = m.Press('5') // row 1: inactive, no edge
	if col.WaitForEdge(0) {
		t.Fatal("edge from a key in an inactive row")
	}
	_ = m.Press('8') // row 2: active, falling edge
	if !col.WaitForEdge(0) || col.Read() != gpio.Low {
		t.Fatal("no falling edge from a key in the active row")
	}
	_ = m.Release('8')
	if !col.WaitForEdge(0) || col.Read() != gpio.High {
		t.Fatal("no rising edge on release")
	}
	if got := m.Down(); got != "5" {
		t.Errorf("Down() = %q, want 5", got)
	}
}

func TestMatrixTapBounce(t *testing.T) {
	m, err := NewMatrix(Layout4x4)
	if err != nil {
		t.Fatal(err)
	}
	columnsLow(t, m, 0)
	m.Bounce, m.BounceGap = 3, 0
	if err := m.Tap(t.Context(), 'A', 0); err != nil {
		t.Fatal(err)
	}
	col := m.ColPins()[3]
	n := 0
	for col.WaitForEdge(0) {
		n++
	}
	// Each transition: 3 extra make/break pairs, then the final one.
	if want := 2 * (2*3 + 1); n != want {
		t.Errorf("%d edges, want %d", n, want)
	}
}

func TestMatrixErrors(t *testing.T) {
	for _, layout := range []string{"", "12/3", "12//34", "11/23"} {
		if _, err := NewMatrix(layout); err == nil || !strings.HasPrefix(err.Error(), "sim: ") {
			t.Errorf("NewMatrix(%q): %v, want a sim: error", layout, err)
		}
	}
	m, err := NewMatrix(Layout3x4)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Type(t.Context(), "12X", 0, 0); err == nil {
		t.Error("Type with a key not on the pad succeeded")
	}
	if got := m.Down(); got != "" {
		t.Errorf("after a failed Type, keys %q are down", got)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := m.Tap(ctx, '1', time.Hour); err == nil {
		t.Error("Tap with a cancelled context succeeded")
	}
	if got := m.Down(); got != "" {
		t.Errorf("after a cancelled Tap, keys %q are down", got)
	}
}

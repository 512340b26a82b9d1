package sim

import (
	"testing"

	"periph.io/x/conn/v3/gpio"
)

func TestDoorWiring(t *testing.T) {
	tests := []struct {
		name           string
		opts           []DoorOption
		pull           gpio.Pull
		closed, opened gpio.Level
	}{
		{"default", nil, gpio.PullDown, gpio.High, gpio.Low},
		{"active-low", []DoorOption{DoorActiveLow()}, gpio.PullUp, gpio.Low, gpio.High},
		{"open when active", []DoorOption{DoorOpenWhenActive()}, gpio.PullDown, gpio.Low, gpio.High},
		{"open when active, active-low", []DoorOption{DoorOpenWhenActive(), DoorActiveLow()}, gpio.PullUp, gpio.High, gpio.Low},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDoor(tt.opts...)
			var seen []bool
			d.Notify(func(open bool) { seen = append(seen, open) })
			if err := d.Pin().In(tt.pull, gpio.BothEdges); err != nil {
				t.Fatal(err)
			}
			if got := d.Pin().Read(); got != tt.closed || d.IsOpen() {
				t.Fatalf("closed door reads %s, want %s", got, tt.closed)
			}
			d.SetOpen(true)
			if got := d.Pin().Read(); got != tt.opened || !d.IsOpen() {
				t.Fatalf("open door reads %s, want %s", got, tt.opened)
			}
			if !d.Pin().WaitForEdge(0) {
				t.Error("opening queued no edge")
			}
			d.SetOpen(true) // no change, no notification
			d.SetOpen(false)
			if len(seen) != 2 || !seen[0] || seen[1] {
				t.Errorf("notified %v, want [true false]", seen)
			}
		})
	}
	if d := NewDoor(DoorStartsOpen()); !d.IsOpen() {
		t.Error("DoorStartsOpen: IsOpen() = false")
	}
}

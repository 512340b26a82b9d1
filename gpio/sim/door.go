package sim

import (
	"sync"

	"periph.io/x/conn/v3/gpio"
)

// Door is a door with a reed sensor. Hand Pin to the driver as an input.
//
// By default the reed is active-high and active (contact made, driving the
// line) while the door is closed; with the contact broken it releases the
// line to the driver's pull. The options mirror gpio.DoorConfig.
type Door struct {
	pin                   *Pin
	activeLow, activeOpen bool

	mu    sync.Mutex
	open  bool
	hooks []func(open bool)
}

// DoorOption configures NewDoor.
type DoorOption func(*Door)

// DoorActiveLow makes the reed pull the line Low when active.
func DoorActiveLow() DoorOption { return func(d *Door) { d.activeLow = true } }

// DoorOpenWhenActive makes the reed active while the door is open (a
// normally-closed reed).
func DoorOpenWhenActive() DoorOption { return func(d *Door) { d.activeOpen = true } }

// DoorStartsOpen starts the door open instead of closed.
func DoorStartsOpen() DoorOption { return func(d *Door) { d.open = true } }

// NewDoor returns a closed door (unless DoorStartsOpen) on a pin named
// DOOR.
func NewDoor(opts ...DoorOption) *Door {
	d := &Door{pin: NewPin("DOOR", -1)}
	for _, o := range opts {
		o(d)
	}
	d.mu.Lock()
	d.wire()
	d.mu.Unlock()
	return d
}

// Pin is the sensor line.
func (d *Door) Pin() *Pin { return d.pin }

// IsOpen reports whether the door is open.
func (d *Door) IsOpen() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.open
}

// SetOpen opens or closes the door. The line changes at once, without
// contact bounce; a test that wants bounce calls SetOpen repeatedly.
func (d *Door) SetOpen(open bool) {
	d.mu.Lock()
	changed := d.open != open
	d.open = open
	d.wire()
	hooks := d.hooks
	d.mu.Unlock()
	if changed {
		for _, f := range hooks {
			f(open)
		}
	}
}

// Notify adds f to the functions called, on SetOpen's goroutine, after the
// door opens or closes. f must not block and must not call Notify.
func (d *Door) Notify(f func(open bool)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.hooks = append(d.hooks, f)
}

// wire sets the line for the door's state. Call with d.mu held.
func (d *Door) wire() {
	if d.open == d.activeOpen {
		d.pin.Drive(gpio.Level(!d.activeLow))
	} else {
		d.pin.Release()
	}
}

package sim

import (
	"sync"

	"periph.io/x/conn/v3/gpio"
)

// Switch is a contact whose closed state is the normal one: a tamper
// switch the case's lid holds closed, or a supply's power-good output.
// Closed, it drives the line to its active level; open, it releases the
// line to the driver's pull, exactly as a cut wire would. Hand Pin to
// gpio.NewAlarmInput.
type Switch struct {
	pin       *Pin
	activeLow bool

	mu     sync.Mutex
	closed bool
}

// NewSwitch returns a closed switch on a pin called name; activeLow makes
// it pull the line Low when closed.
func NewSwitch(name string, activeLow bool) *Switch {
	s := &Switch{pin: NewPin(name, -1), activeLow: activeLow, closed: true}
	s.wire()
	return s
}

// Pin is the switch's line.
func (s *Switch) Pin() *Pin { return s.pin }

// Closed reports whether the contact is made (the normal state).
func (s *Switch) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// SetClosed makes or breaks the contact.
func (s *Switch) SetClosed(closed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = closed
	s.wire()
}

func (s *Switch) wire() {
	if s.closed {
		s.pin.Drive(gpio.Level(!s.activeLow))
	} else {
		s.pin.Release()
	}
}

package sim

// Strike is a fail-secure electric strike on a relay: the door is released
// (unlocked) only while the relay is energised. Hand Pin to the driver as
// an output.
type Strike struct {
	*Output
}

// NewStrike returns a de-energised (locked) strike on a pin named STRIKE,
// energised while its line is High (or Low with activeLow).
func NewStrike(activeLow bool) *Strike {
	o := NewOutput("STRIKE", activeLow)
	return &Strike{o}
}

// Unlocked reports whether the relay is energised.
func (s *Strike) Unlocked() bool { return s.On() }

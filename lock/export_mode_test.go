package lock

import "lockd.dev/lockd/gpio"

// Test hooks for operating modes and alarms, synchronous like StepKeys.

// StepMode changes the operating mode as SetOperatingMode would.
func (c *Core) StepMode(m OperatingMode, source string, uid int) error {
	defer c.settle()
	if _, err := ParseOperatingMode(string(m)); err != nil {
		return err
	}
	return c.setMode(m, source, uid)
}

// StepAck acknowledges an alarm as AcknowledgeAlarm would.
func (c *Core) StepAck(a Alarm, source string, uid int) error {
	defer c.settle()
	if _, err := ParseAlarm(string(a)); err != nil {
		return err
	}
	return c.acknowledge(a, source, uid)
}

// StepCommand runs a Lock (or Unlock) as it reaches the loop from D-Bus.
func (c *Core) StepCommand(lock bool, source string, uid int) error {
	defer c.settle()
	r := request{to: gpio.PosUnlocked, source: source, uid: uid}
	if lock {
		r.to = gpio.PosLocked
	}
	return c.onRequest(r)
}

// StepInput delivers a debounced change of the tamper or power input.
func (c *Core) StepInput(a Alarm, on bool) {
	switch a {
	case AlarmTamper:
		c.ma.tamper = on
	case AlarmPower:
		c.ma.power = on
	}
	c.settle()
}

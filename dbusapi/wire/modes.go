package wire

// Operating modes and alarms on io.lockd.Lock1 (DESIGN.md "D-Bus").
const (
	// PropOperatingMode is s: normal vacation privacy no-remote passage.
	PropOperatingMode = "OperatingMode"
	// PropAlarms is as: the listed alarms, in the order forced-open ajar
	// tamper jammed wrong-entry-limit power; empty when none.
	PropAlarms = "Alarms"

	// ErrOperatingMode: the operating mode refuses the call (Lock and
	// Unlock in no-remote, Unlock in privacy); the message names the
	// mode. Nothing moved.
	ErrOperatingMode = "io.lockd.Error.OperatingMode"
	// ErrNotLocked: SetOperatingMode("privacy") with the bolt not locked.
	ErrNotLocked = "io.lockd.Error.NotLocked"
	// ErrNotActive: AcknowledgeAlarm of an alarm that is not listed.
	ErrNotActive = "io.lockd.Error.NotActive"
)

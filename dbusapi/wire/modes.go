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

// OptVacation (b, Codes1.Add and Users1.AddUser) marks a user whose
// credentials open in vacation mode; KeyVacation (b) says so in
// Users1.ListUsers.
const (
	OptVacation = "vacation"
	KeyVacation = "vacation"
)

// OperatingModes are the values of OperatingMode, in the order of
// Matter's enum ("9 N #" at the keypad takes the index); lock's own list,
// which a dbusapi test holds this one to.
var OperatingModes = []string{"normal", "vacation", "privacy", "no-remote", "passage"}

// AlarmNames are the values Alarms may hold, in the order it lists them.
var AlarmNames = []string{"forced-open", "ajar", "tamper", "jammed", "wrong-entry-limit", "power"}

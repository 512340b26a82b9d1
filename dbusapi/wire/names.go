// Package wire holds the names and shapes of lockd's D-Bus API that both
// ends use: the bus name, object path, interfaces, error names, Codes1.Add
// and Update1.InstallWithOptions option keys and the keys of the a{sv} details lockd sends, plus Dial. It
// imports only godbus, so lockctl can use it without linking the code
// store (SQLite, cgo) that package dbusapi needs.
package wire

import "github.com/godbus/dbus/v5"

// The bus name, the one object, and its interfaces (DESIGN.md "D-Bus").
const (
	BusName                    = "io.lockd.Lock1"
	ObjectPath dbus.ObjectPath = "/io/lockd/Lock1"

	Lock1      = "io.lockd.Lock1"
	Codes1     = "io.lockd.Codes1"
	Simulator1 = "io.lockd.Simulator1"
	// Update1 is exported only when lockd has an updater.
	Update1 = "io.lockd.Update1"

	// Event is the member name of the signal Lock1.Event(s kind, a{sv} details).
	Event = "Event"
)

// Properties of io.lockd.Lock1. Every one emits PropertiesChanged.
const (
	PropState          = "State"          // s: locked unlocked locking unlocking jammed unknown
	PropDoorOpen       = "DoorOpen"       // b
	PropHasDoor        = "HasDoor"        // b: false when no door sensor is fitted
	PropProvisioned    = "Provisioned"    // b: an admin code is set
	PropLockedOutUntil = "LockedOutUntil" // t: µs since the epoch, 0 = no keypad lockout
	PropMode           = "Mode"           // s: keypad mode: idle programming setup confirm
	PropHealth         = "Health"         // as: "subsystem: problem", sorted; empty when healthy
)

// Properties of io.lockd.Update1. Every one emits PropertiesChanged.
const (
	// PropOperation is s: idle verifying writing syncing pending checking
	// armed rebooting trial committing trial-failed unavailable.
	PropOperation  = "Operation"
	PropProgress   = "Progress"   // i: percent of the running operation
	PropLastError  = "LastError"  // s: why the last install or switch failed, or why updates are unavailable; "" none
	PropBootedSlot = "BootedSlot" // s: A or B, "" unknown
	PropSlots      = "Slots"      // a{sa{sv}}: slot name -> Key* of a slot
	PropPending    = "Pending"    // a{sv}: the update not committed yet; empty when none
	PropWaiting    = "Waiting"    // s: what a pending update waits for; "" nothing
	PropPolicy     = "Policy"     // s: reboot policy: approve window auto
	PropHistory    = "History"    // aa{sv}: update history, oldest first
	// PropTrialCommitsAt is t: when the running trial commits if lockd
	// stays healthy until then, µs since the epoch (as LockedOutUntil);
	// 0 when no trial runs or lockd is not healthy yet. Waiting says the
	// same in words.
	PropTrialCommitsAt = "TrialCommitsAt"
)

// Error names. Every error carries one string: the reason, for a person.
const (
	ErrAccessDenied = "org.freedesktop.DBus.Error.AccessDenied"
	ErrInvalidArgs  = "org.freedesktop.DBus.Error.InvalidArgs"
	// ErrLimitsExceeded: the call was larger than lockd reads (its body
	// over 64 KiB, or its header fields over 16 KiB); lockd discarded it
	// unread and changed nothing.
	ErrLimitsExceeded = "org.freedesktop.DBus.Error.LimitsExceeded"
	ErrFailed         = "org.freedesktop.DBus.Error.Failed" // the store or the lock failed
	// ErrUnavailable: the code store could not be opened, or the lock
	// core is not running.
	ErrUnavailable = "io.lockd.Error.Unavailable"
	// ErrDoorOpen: Lock() was accepted but waits for the door to close.
	ErrDoorOpen = "io.lockd.Error.DoorOpen"
	// ErrUnprovisioned: Codes1.Add before the admin code is set.
	ErrUnprovisioned = "io.lockd.Error.Unprovisioned"
	// ErrFull: every keypad slot is taken.
	ErrFull = "io.lockd.Error.Full"
	// ErrBusy: an install or a reboot into an update is under way.
	ErrBusy = "io.lockd.Error.Busy"
	// ErrNothingPending: Approve or Reject with no update pending.
	ErrNothingPending = "io.lockd.Error.NothingPending"
	// ErrBundleRefused: the bundle failed a check (signature, compatible,
	// version, security version, size, format, image); nothing was
	// written. The message says which check and why.
	ErrBundleRefused = "io.lockd.Error.BundleRefused"
)

// Keys of the Codes1.Add options (a{sv}). Unknown keys and other types are
// InvalidArgs naming the key.
const (
	OptKind       = "kind"        // s: user scheduled expiring one-time limited duress (default user)
	OptWeekdays   = "weekdays"    // s "mon,tue" or as ["mon","tue"]
	OptFrom       = "from"        // s "HH:MM", local time of day
	OptUntil      = "until"       // s "HH:MM"
	OptValidFrom  = "valid_from"  // t µs since the epoch, 0 = none
	OptValidUntil = "valid_until" // t µs since the epoch, 0 = none
	OptUses       = "uses"        // u
)

// Keys of the Update1.InstallWithOptions options (a{sv}). Unknown keys and
// other types are InvalidArgs naming the key.
const (
	// OptAllowDowngrade (b) installs a version not newer than the booted
	// one; never one below the unit's minimum security version.
	OptAllowDowngrade = "allow-downgrade"
)

// Keys of the Update1 properties' dictionaries. Times there are x, Unix
// seconds.
const (
	// Slots entries.
	KeyState           = "state"            // s: empty installed trial good bad
	KeyVersion         = "version"          // s, when known (Pending, History and update events too)
	KeySecurityVersion = "security_version" // t, when set (Pending too)
	KeyBooted          = "booted"           // b: the running slot
	KeyCommitted       = "committed"        // b, when the updater reports the committed slot

	// Pending (and History: slot).
	KeyUpdateSlot  = "slot"         // s: A or B
	KeyPhase       = "phase"        // s: installed armed
	KeyApproved    = "approved"     // b
	KeyFromVersion = "from_version" // s
	KeyInstalled   = "installed"    // x

	// History entries: time, event, and slot, version, detail when set.
	KeyHistoryTime = "time"   // x
	KeyEvent       = "event"  // s: first-boot installed approved armed committed rolled-back rejected failed ...
	KeyDetail      = "detail" // s
)

// Keys of the details lockd sends: Event signals, Codes1.Log entries and
// Codes1.List entries. A key is present only when it applies, except uid
// in events and log entries (-1: not a D-Bus caller). Nothing lockd sends
// ever holds code digits or digests.
const (
	KeyTime     = "time"      // t µs since the epoch
	KeyKind     = "kind"      // s: event kind (Log), code kind (List)
	KeySource   = "source"    // s: keypad card dbus auto-relock door start manual bolt codes
	KeyReason   = "reason"    // s
	KeyCodeID   = "code_id"   // u
	KeyCodeKind = "code_kind" // s
	KeySlot     = "slot"      // u keypad slot
	KeyUID      = "uid"       // i caller's Unix UID, -1 none
	KeyUntil    = "until"     // t end of a lockout
	KeyDetails  = "details"   // a{ss}: extra audit details (Log only)

	// List only.
	KeyEnabled    = "enabled"     // b
	KeyWeekdays   = "weekdays"    // s "mon,tue"; with from/until for scheduled codes
	KeyFrom       = "from"        // s "HH:MM"
	KeyUntilTime  = "until"       // s "HH:MM" (List: time of day; events: KeyUntil)
	KeyValidFrom  = "valid_from"  // t
	KeyValidUntil = "valid_until" // t
	KeyUses       = "uses"        // u times granted
	KeyUsesLeft   = "uses_left"   // u, only for codes with limited uses
	KeyCreated    = "created"     // t
	KeyLastUsed   = "last_used"   // t, only once used
)

// Event kinds lockd adds to those of the lock core (lock.Event*) for what
// happens over D-Bus. The lock core's code-added, code-removed,
// admin-changed and setup kinds are reused for D-Bus code changes.
const (
	EventAccessDenied = "access-denied" // reason: the method; uid: the caller
	EventCodeEnabled  = "code-enabled"
	EventCodeDisabled = "code-disabled"
	EventLockoutReset = "lockout-reset"
)

// Update event kinds, sent as Lock1.Event and kept in the audit log. A
// request names what a caller asked (source dbus, uid the caller); an
// outcome what the updater did (source updater, uid -1). Both carry, in
// details (a{ss}), version and boot_slot when known; reason says why for
// refusals, failures and rollbacks.
const (
	EventUpdateInstall = "update-install" // request accepted; reason "allow-downgrade" when set
	EventUpdateRefused = "update-refused" // request: the bundle was refused; reason: why
	EventUpdateApprove = "update-approve" // request
	EventUpdateReject  = "update-reject"  // request

	EventUpdateInstalled  = "update-installed"
	EventUpdateArmed      = "update-armed"
	EventUpdateCommitted  = "update-committed"
	EventUpdateRolledBack = "update-rolled-back"
	EventUpdateRejected   = "update-rejected"
	EventUpdateFailed     = "update-failed"

	// SourceUpdater is the source of the updater's own events.
	SourceUpdater = "updater"
	// KeyBootSlot (s, A or B) is the slot an update event concerns; the
	// key slot is the keypad slot (u) in events.
	KeyBootSlot = "boot_slot"
	KeyURL      = "url" // the bundle URL of an update-install request from InstallFromURL
)

package lock

import (
	"sync"
	"time"
)

// Event kinds. They are part of the D-Bus and audit-log contract.
const (
	EventGranted        = "granted"          // an entry opened the door
	EventDenied         = "denied"           // an entry was refused (Reason says why)
	EventDuress         = "duress"           // a duress code was used (silent)
	EventLocking        = "locking"          // the bolt started to lock
	EventUnlocking      = "unlocking"        // the bolt started to unlock
	EventLocked         = "locked"           // the bolt reached the locked end
	EventUnlocked       = "unlocked"         // the bolt reached the unlocked end
	EventJammed         = "jammed"           // the bolt did not reach its end
	EventPositionChange = "position-changed" // the bolt moved without the motor (a thumb turn)
	EventPositionUnsure = "position-unknown" // the switches cannot tell where the bolt is
	EventLockPending    = "lock-pending"     // a lock waits for the door to close
	EventDoorOpen       = "door-open"
	EventDoorClosed     = "door-closed"
	EventLockout        = "lockout"     // a keypad lockout started or was extended
	EventLockoutEnd     = "lockout-end" // the keypad lockout ended
	EventProgramming    = "programming" // programming mode entered
	EventProgrammingEnd = "programming-end"
	EventCodeAdded      = "code-added"
	EventCodeRemoved    = "code-removed"
	EventAdminChanged   = "admin-changed"
	EventSetup          = "setup"            // first admin code set; setup code burnt
	EventSetupStarted   = "setup-started"    // the setup code was accepted
	EventRefused        = "refused"          // a programming step was refused (Reason says why)
	EventKeypadError    = "keypad-error"     // the keypad driver stopped
	EventStoreError     = "code-store-error" // the code store failed
)

// Event sources.
const (
	SourceKeypad     = "keypad"
	SourceCard       = "card"
	SourceDBus       = "dbus"
	SourceAutoRelock = "auto-relock"
	SourceDoor       = "door" // a pending lock ran when the door closed
	SourceStart      = "start"
	SourceManual     = "manual"
	SourceBolt       = "bolt"
)

// Event is one decision or observation of the core. It never carries code
// digits.
type Event struct {
	Kind     string
	Time     time.Time
	Source   string
	Reason   string    // why, for refusals, jams and errors
	CodeID   int64     // the code involved, 0 if none
	CodeKind string    // its kind
	Slot     int       // its keypad slot, 0 if none
	Until    time.Time // end of a lockout
	UID      int       // D-Bus caller, -1 if none
	// Credential is the type of the credential involved ("pin" or
	// "card"), "" if none or not known. Never its digits or numbers.
	Credential string
}

// hub fans events out to subscribers. A subscriber that falls behind loses
// events rather than stalling the lock; durable consumers (the audit log)
// use a sink instead, which is called synchronously in order.
type hub struct {
	mu   sync.Mutex
	subs map[chan Event]struct{}
}

func (h *hub) subscribe(n int) (<-chan Event, func()) {
	c := make(chan Event, n)
	h.mu.Lock()
	if h.subs == nil {
		h.subs = make(map[chan Event]struct{})
	}
	h.subs[c] = struct{}{}
	h.mu.Unlock()
	return c, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.subs[c]; ok {
			delete(h.subs, c)
			close(c)
		}
	}
}

func (h *hub) publish(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.subs {
		select {
		case c <- e:
		default:
		}
	}
}

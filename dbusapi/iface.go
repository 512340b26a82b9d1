package dbusapi

import (
	"context"
	"os"
	"time"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/lock"
	"lockd.dev/lockd/updater"
)

// Lock is the lock core as the service uses it (*lock.Core). Lock and
// Unlock return once the command is accepted; Lock returns lock.ErrDoorOpen
// when it waits for the door to close, lock.ErrStopped when the core is
// not running. Subscribe may drop events for a slow subscriber; the
// service re-reads Status every second so properties still converge.
// Refresh re-reads provisioning and lockout from the store after a
// Codes1 call that changed nothing but may have counted a wrong entry.
// Announce does the same after a Codes1 change, and first makes the
// change one of the lock's events: its sink records it in the audit log
// (wire the core's Sink to the store, codeslink.AuditSink, or Codes1
// changes go unaudited) and Subscribe delivers it, to the panel and to
// the service, which sends it as the Event signal. It returns an error
// wrapping lock.ErrNotAnnounced when the lock did not take the event.
type Lock interface {
	Status() lock.Status
	Lock(ctx context.Context, source string, uid int) error
	Unlock(ctx context.Context, source string, uid int) error
	Subscribe(n int) (<-chan lock.Event, func())
	Refresh(ctx context.Context) error
	Announce(ctx context.Context, e lock.Event) error
}

// Codes is the code store as the service uses it (*codes.Store). Errors
// wrap the codes sentinels (ErrWeakCode, ErrDuplicate, ErrNotFound, ...),
// which the service maps to D-Bus errors; their text never holds digits.
type Codes interface {
	SetAdmin(ctx context.Context, code string, now time.Time) error
	Add(ctx context.Context, label, code string, o codes.AddOptions) (codes.Info, error)
	List(ctx context.Context) ([]codes.Info, error)
	Remove(ctx context.Context, id int64) error
	SetEnabled(ctx context.Context, id int64, enabled bool) error
	ResetLockout(ctx context.Context) error
	Log(ctx context.Context, after int64, limit int) ([]codes.AuditEvent, error)
	Record(ctx context.Context, e codes.AuditEvent) error
}

// Simulator is the simulated board (*sim.Board). Press types keys through
// the electrical model and returns once the last key is released; it
// fails for a key the keypad does not have. SetJam fails on a board with a
// strike.
type Simulator interface {
	Press(ctx context.Context, keys string) error
	// PressTime is how long Press takes for n keys when nothing is late:
	// typing happens in real time.
	PressTime(n int) time.Duration
	SetDoor(open bool)
	SetJam(jam bool) error
}

// Updater is the A/B updater (*updater.Updater).
//
// Install takes f over and closes it on every path. It returns once the
// whole bundle has been checked (signature, compatible, versions, size,
// every stored byte), with a refusal that changed nothing (errors wrapping
// the bundle package's sentinels, updater.ErrBusy, updater.ErrUnavailable)
// or nil; the write then goes on in the background and Status follows it.
// If ctx ends first Install returns ctx's error and the install is
// abandoned once the checks end. Approve and Reject return
// updater.ErrNothing when no update is pending and updater.ErrBusy when
// it is too late (on trial, rebooting).
//
// Changed is signalled, without blocking and coalesced, whenever Status
// may have changed; the service is its only reader. Subscribe may drop
// events for a slow subscriber; the History property still has them.
type Updater interface {
	Status() updater.Status
	// TrialCommitsAt is when the running trial commits if lockd stays
	// healthy; zero when none runs or lockd is not healthy yet. A change
	// of it signals Changed.
	TrialCommitsAt() time.Time
	Changed() <-chan struct{}
	Subscribe(n int) (<-chan updater.Event, func())
	Install(ctx context.Context, f *os.File, o updater.InstallOptions) error
	// InstallSource is Install for a bundle read from src (a download).
	InstallSource(ctx context.Context, src updater.Source, o updater.InstallOptions) error
	Approve(ctx context.Context) error
	Reject(ctx context.Context) error
}

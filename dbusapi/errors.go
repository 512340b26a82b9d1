package dbusapi

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/lock"
)

// maxID is the largest code id the u-typed D-Bus arguments can carry.
const maxID = math.MaxUint32

// dbusError returns a D-Bus error with a reason for a person.
func dbusError(name, format string, args ...any) *dbus.Error {
	return dbus.NewError(name, []any{fmt.Sprintf(format, args...)})
}

func invalidArgs(format string, args ...any) *dbus.Error {
	return dbusError(wire.ErrInvalidArgs, format, args...)
}

var errStoreUnavailable = dbusError(wire.ErrUnavailable, "the code store is unavailable (see lockctl status); nothing was changed")

// codesError maps a code store error. Arguments the store refuses are
// InvalidArgs; its I/O failures are Failed. The store's messages never
// hold digits, so they go to the caller as they are.
func codesError(err error) *dbus.Error {
	switch {
	case errors.Is(err, codes.ErrWeakCode), errors.Is(err, codes.ErrDuplicate),
		errors.Is(err, codes.ErrAmbiguous), errors.Is(err, codes.ErrNotFound),
		errors.Is(err, codes.ErrInvalid):
		return dbusError(wire.ErrInvalidArgs, "%v", err)
	case errors.Is(err, codes.ErrUnprovisioned):
		return dbusError(wire.ErrUnprovisioned, "%v", err)
	case errors.Is(err, codes.ErrFull):
		return dbusError(wire.ErrFull, "%v", err)
	case errors.Is(err, codes.ErrClosed):
		return dbusError(wire.ErrUnavailable, "%v", err)
	}
	return callError(err)
}

// lockError maps an error of the lock core's Lock or Unlock.
func lockError(err error) *dbus.Error {
	switch {
	case errors.Is(err, lock.ErrDoorOpen):
		return dbusError(wire.ErrDoorOpen, "the door is open: the bolt will lock when it closes")
	case errors.Is(err, lock.ErrStopped):
		return dbusError(wire.ErrUnavailable, "%v", err)
	case errors.Is(err, lock.ErrOperatingMode):
		return dbusError(wire.ErrOperatingMode, "%v", err)
	}
	return callError(err)
}

// callError is the fallback: a deadline or anything else is Failed.
func callError(err error) *dbus.Error {
	if errors.Is(err, context.DeadlineExceeded) {
		return dbusError(wire.ErrFailed, "lockd did not finish within %v", callTimeout)
	}
	return dbusError(wire.ErrFailed, "%v", err)
}

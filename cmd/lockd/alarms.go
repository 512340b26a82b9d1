package main

import (
	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/internal/codeslink"
	"lockd.dev/lockd/lock"
)

// statesOf is the store as the core's StateStore; a true nil without a
// store, so the core knows it cannot keep a mode.
func statesOf(s *codes.Store) lock.StateStore {
	if s == nil {
		return nil
	}
	return codeslink.States{Store: s}
}

// alarmInputOf is an input as the core takes it; a true nil when the
// input is not fitted.
func alarmInputOf(in *gpio.AlarmInput) lock.AlarmInput {
	if in == nil {
		return nil
	}
	return in
}

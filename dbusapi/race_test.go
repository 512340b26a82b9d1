//go:build race

package dbusapi_test

// raceEnabled: the race detector multiplies what the heap costs (5 to 10
// times, as its documentation says), so memory bounds scale with it.
const raceEnabled = true

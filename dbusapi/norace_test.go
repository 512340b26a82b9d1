//go:build !race

package dbusapi_test

const raceEnabled = false

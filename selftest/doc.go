// Package selftest owns the installer's wiring walk (`lockd selftest`): it
// goes through every pin the configuration names, drives each output
// briefly, asks the installer for each key and for the door, runs the bolt
// motor a short way in one direction at a time with its limit switches
// watched, and reports pin by pin what it saw: OK, no change, stuck,
// shorted to another pin, or miswired.
//
// It uses the gpio package's drivers (the keypad scanner, the motor with
// its never-both-directions guarantee, the door sensor) on periph.io pins,
// so a walk on the simulated board (gpio/sim) runs the same code as one on
// a real controller. It owns the pins while it runs: lockd must not.
//
// The person at the lock is an Installer; siminstaller plays one on a
// simulated board for tests.
package selftest

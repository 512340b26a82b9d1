// Package lock is the lock's policy core: it turns keypad input into code
// checks and code checks into bolt movements, and owns auto-relock, the door
// guard, programming mode, first-time setup and the events every decision
// produces.
//
// One goroutine (Run) owns all state; the keypad, the door sensor, bolt
// movements, timers and commands from D-Bus reach it as messages. Hardware
// and the code store are behind small interfaces defined here, so the same
// core runs on real pins, on the electrical simulation, and on fakes.
//
// On any doubt the core does not move the bolt on its own: an unknown
// position at start, a jam, or an unreadable code store leave the bolt where
// it is and say why in an event and in Status.
package lock

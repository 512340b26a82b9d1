// Package sim is an electrical model of the lock's board for tests and
// `lockd --sim`. It owns simulated pins (Pin) and models of what hangs off
// them: the matrix keypad (Matrix), the Wiegand keypad or card reader
// (Wiegand), and the bolt, door and outputs.
//
// The real drivers in package gpio run unchanged against these models: a
// model changes levels on Pin values the way hardware would (a pressed key
// connects a row to a column, a Wiegand reader pulls a data line Low), and
// the driver sees edges and levels through the ordinary periph.io pin
// interfaces. Nothing here knows about keys or codes beyond what the wiring
// implies.
//
// This package does not import lockd.dev/lockd/gpio, so tests inside
// package gpio may import it without an import cycle.
package sim

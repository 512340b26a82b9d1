// Package gpio owns the lock's hardware: the matrix and Wiegand keypads, the
// bolt (an H-bridge motor with two limit switches, or a relay strike), the
// door sensor, and the LEDs and buzzer.
//
// Every driver takes periph.io pins (gpio.PinIn, gpio.PinOut, gpio.PinIO)
// and never opens /dev itself: cmd/lockd looks pins up with gpioreg, and
// tests hand in the electrical model from package gpio/sim. No driver knows
// whether it is simulated.
//
// Blocking waits on pins always use a finite WaitForEdge timeout in a loop
// (see PollInterval), because a real gpioioctl pin treats -1 as "return at
// once" while gpiotest treats it as "forever"; a finite timeout behaves the
// same on both and lets a cancelled context stop the driver promptly.
package gpio

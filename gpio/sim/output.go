package sim

import (
	"sync"

	"periph.io/x/conn/v3/gpio"
)

// Output is something the driver switches on and off: an LED, a buzzer, a
// relay. Hand Pin to the driver as an output. It records what the driver
// writes and tells watchers when it turns on or off.
type Output struct {
	pin       *Pin
	activeLow bool

	mu    sync.Mutex
	on    bool
	count int // on/off transitions
	hooks []func(on bool)
}

// NewOutput returns an output on a pin called name, on while its line is
// High (or Low with activeLow).
func NewOutput(name string, activeLow bool) *Output {
	o := &Output{pin: NewPin(name, -1), activeLow: activeLow}
	o.pin.OnOut = o.written
	return o
}

// Pin is the output line.
func (o *Output) Pin() *Pin { return o.pin }

// On reports whether the output is on.
func (o *Output) On() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.on
}

// Transitions returns how many times the output turned on or off.
func (o *Output) Transitions() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.count
}

// Notify adds f to the functions called, on the driver's goroutine, after
// the output turns on or off. f must not block, must not call Notify and
// must not write to the pin.
func (o *Output) Notify(f func(on bool)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.hooks = append(o.hooks, f)
}

// written is the pin's OnOut hook.
func (o *Output) written(l gpio.Level) {
	on := l != gpio.Level(o.activeLow)
	o.mu.Lock()
	changed := o.on != on
	if changed {
		o.on = on
		o.count++
	}
	hooks := o.hooks
	o.mu.Unlock()
	if changed {
		for _, f := range hooks {
			f(on)
		}
	}
}

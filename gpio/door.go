package gpio

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	pgpio "periph.io/x/conn/v3/gpio"
)

// DefaultDebounce is how long a door sensor level must hold before it
// counts, when DoorConfig.Debounce is zero.
const DefaultDebounce = 50 * time.Millisecond

// DoorConfig wires a reed door sensor.
//
// By default the input is active-high and "active" means the door is
// closed (the magnet holds a normally-open reed closed). The input is
// pulled toward its inactive level, so a cut wire reads "open": lockd then
// refuses what it only does with the door shut (updates, relocking onto
// an open door) rather than trusting a dead sensor.
type DoorConfig struct {
	Pin       pgpio.PinIn
	ActiveLow bool // the reed pulls the line Low when active
	// OpenWhenActive inverts the meaning: active means the door is open
	// (a normally-closed reed, or a sensor wired the other way).
	OpenWhenActive bool
	// Debounce is how long a new level must hold; zero means
	// DefaultDebounce.
	Debounce time.Duration
}

// Door reads a reed door sensor.
type Door struct {
	in       inLine
	openHigh bool // open == active
	debounce time.Duration

	mu      sync.Mutex
	running bool // Run maintains open
	open    bool // debounced state while running
}

// NewDoor checks cfg and configures the input for edge detection.
func NewDoor(cfg DoorConfig) (*Door, error) {
	switch {
	case cfg.Pin == nil:
		return nil, errors.New("gpio: door: sensor pin is required")
	case cfg.Debounce < 0:
		return nil, fmt.Errorf("gpio: door: negative debounce %s", cfg.Debounce)
	}
	d := &Door{
		in:       inLine{cfg.Pin, cfg.ActiveLow},
		openHigh: cfg.OpenWhenActive,
		debounce: cfg.Debounce,
	}
	if d.debounce == 0 {
		d.debounce = DefaultDebounce
	}
	if err := d.in.setup(); err != nil {
		return nil, fmt.Errorf("gpio: door: %w", err)
	}
	return d, nil
}

// Open reports whether the door is open: the debounced state while Run is
// running, otherwise the sensor read now.
func (d *Door) Open() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.running {
		return d.open
	}
	return d.raw()
}

// Run watches the sensor until ctx is done, then returns nil. It sends the
// state when it starts, then the debounced state on every change; a level
// counts once it has held, without another edge, for the debounce time. It
// blocks while changes is full and gives up the send if ctx ends. Only one
// Run may run at a time.
func (d *Door) Run(ctx context.Context, changes chan<- bool) error {
	d.mu.Lock()
	if d.running {
		d.mu.Unlock()
		return errors.New("gpio: door: Run is already running")
	}
	d.running, d.open = true, d.raw()
	stable := d.open
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.running = false
		d.mu.Unlock()
	}()

	send := func(open bool) bool {
		select {
		case changes <- open:
			return true
		case <-ctx.Done():
			return false
		}
	}
	if !send(stable) {
		return nil
	}
	var since time.Time // when the level last moved away from stable
	for ctx.Err() == nil {
		wait := PollInterval
		if !since.IsZero() {
			wait = min(wait, d.debounce-time.Since(since))
		}
		edge := wait > 0 && d.in.pin.WaitForEdge(wait)
		now := d.raw()
		switch {
		case now == stable:
			since = time.Time{}
		case since.IsZero() || edge:
			since = time.Now() // a new level, or it bounced: start over
		case time.Since(since) >= d.debounce:
			since, stable = time.Time{}, now
			d.mu.Lock()
			d.open = now
			d.mu.Unlock()
			if !send(now) {
				return nil
			}
		}
	}
	return nil
}

// raw reads the sensor without debouncing.
func (d *Door) raw() bool { return d.in.active() == d.openHigh }

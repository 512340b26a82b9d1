// Package panel is the interactive terminal panel of `lockd --sim`: a drawn
// keypad, the bolt, door, LEDs and buzzer of the simulated board, the lock
// core's status and its latest events. Keys typed at the terminal press keys
// on the simulated matrix keypad, so the real scanner reads them exactly as
// it reads a person's finger; other keys open the door, jam the bolt or ask
// the core to lock or unlock.
//
// The panel only reads the core and drives the simulation: it owns no lock
// state and makes no decision, so the daemon behaves the same with or
// without it.
package panel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	tea "github.com/charmbracelet/bubbletea"

	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/lock"
)

// Core is what the panel needs of the lock core (*lock.Core satisfies it).
// Status must be cheap and safe from any goroutine; Lock and Unlock return
// once the command is accepted, as they do for a D-Bus caller.
type Core interface {
	Status() lock.Status
	Lock(ctx context.Context, source string, uid int) error
	Unlock(ctx context.Context, source string, uid int) error
}

// Config is what Run draws and drives.
type Config struct {
	// Board is the simulated board whose keypad, door and motor the
	// panel drives and whose bolt, LEDs and buzzer it shows. Required.
	Board *sim.Board
	// Core is the running lock core. Required.
	Core Core
	// Events are the core's events (from Core.Subscribe); the panel shows
	// the latest ones. Nil shows none. A closed channel is fine.
	Events <-chan lock.Event
	// Layout is the matrix keypad's layout (sim.Layout3x4, ...). Empty
	// picks sim.Layout4x4 for a 4-column keypad, else sim.Layout3x4.
	Layout string
	// SetupCode is the unit's setup code, shown while it is unprovisioned.
	// Only the simulation passes it: a real unit's code is on its label.
	SetupCode string
	// Input and Output are the terminal; nil means os.Stdin and os.Stdout.
	// Input should be a terminal (it is put in raw mode while Run runs).
	Input  io.Reader
	Output io.Writer
	// Quit is called when the user quits the panel (q or ctrl-c), before
	// Run returns; the daemon cancels its context there. May be nil.
	Quit func()
}

// Run draws the panel and handles input until ctx is cancelled or the user
// quits, then restores the terminal and returns nil. The daemon's signal
// handling is left alone: a SIGTERM reaches the daemon, which cancels ctx.
// Nothing written to Output by others while Run runs is kept on screen, so
// the daemon must not log to the same terminal meanwhile.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Board == nil {
		return errors.New("panel: no simulated board")
	}
	if cfg.Core == nil {
		return errors.New("panel: no lock core")
	}
	if cfg.Input == nil {
		cfg.Input = os.Stdin
	}
	if cfg.Output == nil {
		cfg.Output = os.Stdout
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	m, err := newModel(ctx, cfg)
	if err != nil {
		return err
	}
	p := tea.NewProgram(m,
		tea.WithInput(cfg.Input), tea.WithOutput(cfg.Output),
		tea.WithAltScreen(), tea.WithoutSignalHandler())

	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel() // runs before wg.Wait: stops the goroutines below
	wg.Go(func() { m.act.run(ctx, p.Send) })
	wg.Go(func() { forwardChanges(ctx, watch(cfg.Board), p.Send) })
	if cfg.Events != nil {
		wg.Go(func() { forwardEvents(ctx, cfg.Events, p.Send) })
	}
	wg.Go(func() {
		<-ctx.Done()
		p.Quit() // returns at once if the program already ended
	})

	_, err = p.Run()
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		return fmt.Errorf("panel: terminal: %w", err)
	}
	return nil
}

// forwardEvents hands the core's events to the program until ctx ends or
// the channel closes.
func forwardEvents(ctx context.Context, events <-chan lock.Event, send func(tea.Msg)) {
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-events:
			if !ok {
				return
			}
			send(eventMsg(e))
		}
	}
}

// forwardChanges turns board change signals into redraws, coalesced.
func forwardChanges(ctx context.Context, changed <-chan struct{}, send func(tea.Msg)) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-changed:
			send(refreshMsg{})
		}
	}
}

// watch registers change hooks on the board's outputs, motor and door and
// returns the channel they signal. The hooks run on driver goroutines and
// the sim offers no way to remove them, so they only ever do a
// non-blocking send: after Run returns they cost nothing and block nobody.
func watch(b *sim.Board) <-chan struct{} {
	c := make(chan struct{}, 1)
	poke := func() {
		select {
		case c <- struct{}{}:
		default:
		}
	}
	onOff := func(bool) { poke() }
	for _, o := range []*sim.Output{b.Green, b.Red, b.Buzzer} {
		if o != nil {
			o.Notify(onOff)
		}
	}
	if b.Strike != nil {
		b.Strike.Notify(onOff)
	}
	if b.Motor != nil {
		b.Motor.Notify(poke)
	}
	if b.Door != nil {
		b.Door.Notify(onOff)
	}
	return c
}

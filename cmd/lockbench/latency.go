package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/internal/codeslink"
	"lockd.dev/lockd/lock"
)

const debounce = 20 * time.Millisecond

// keyToBolt measures, through the real matrix scanner on the electrical
// model and the real lock core and code store, the time from the '#'
// contact closing to the motor's H-bridge input going active, minus the
// configured debounce.
func keyToBolt(ctx context.Context, n, ncodes int) error {
	lat, err := keyToBoltSamples(ctx, n, ncodes, nil)
	if err != nil {
		return err
	}
	fmt.Printf("key-to-bolt latency (%d presses, %d codes stored, debounce %v subtracted): median %v  p99 %v  max %v\n",
		n, ncodes, debounce, percentile(lat, 50).Round(time.Microsecond), percentile(lat, 99).Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond))
	return nil
}

// keyToBoltSamples returns n sorted key-to-bolt latencies; load, when set,
// runs beside the presses (it is started once the core is ready and
// stopped by cancelling its context).
func keyToBoltSamples(ctx context.Context, n, ncodes int, load func(ctx context.Context)) ([]time.Duration, error) {
	dir, err := os.MkdirTemp("", "lockbench")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	store, code, err := benchStore(ctx, dir, ncodes)
	if err != nil {
		return nil, err
	}
	defer store.Close()

	board, err := sim.NewBoard(sim.BoardConfig{Travel: 5 * time.Millisecond, Start: sim.BoltLocked})
	if err != nil {
		return nil, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	kp, err := gpio.NewMatrix(board.Matrix.Rows(), board.Matrix.Cols(), gpio.MatrixOptions{Debounce: debounce, Logger: quiet})
	if err != nil {
		return nil, err
	}
	active := make(chan time.Time, 16)
	motor, err := gpio.NewMotor(gpio.MotorConfig{
		LockDir: board.Motor.LockDir(), UnlockDir: board.Motor.UnlockDir(),
		LockedSwitch: board.Motor.LockedSwitch(), UnlockedSwitch: board.Motor.UnlockedSwitch(),
		LockedSwitchActiveLow: true, UnlockedSwitchActiveLow: true, Logger: quiet,
		OnMove: func(d gpio.Direction) {
			if d == gpio.DirUnlock {
				select {
				case active <- time.Now():
				default:
				}
			}
		},
	})
	if err != nil {
		return nil, err
	}
	rec := &recordKeypad{Matrix: kp}
	core, err := lock.New(lock.Config{Keypad: rec, Bolt: motor, Codes: codeslink.Codes{Store: store}, Log: quiet})
	if err != nil {
		return nil, err
	}
	events, _ := core.Subscribe(64)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go core.Run(ctx)
	<-core.Ready()
	if load != nil {
		go load(ctx)
	}

	var lat []time.Duration
	for i := 0; i < n; i++ {
		drain(events)
		if err := board.Matrix.Type(ctx, code, 60*time.Millisecond, 40*time.Millisecond); err != nil {
			return nil, err
		}
		time.Sleep(40 * time.Millisecond)
		t0 := time.Now()
		if err := board.Matrix.Press('#'); err != nil {
			return nil, err
		}
		var t1 time.Time
		select {
		case t1 = <-active:
		case <-time.After(5 * time.Second):
			return nil, fmt.Errorf("iteration %d: motor never started; code %s; keys seen: %s; events: %s", i, code, rec.dump(), drain(events))
		}
		lat = append(lat, t1.Sub(t0)-debounce)
		board.Matrix.Release('#')
		if err := waitEvent(events, lock.EventUnlocked); err != nil {
			return nil, err
		}
		if err := core.Lock(ctx, lock.SourceDBus, 0); err != nil {
			return nil, err
		}
		if err := waitEvent(events, lock.EventLocked); err != nil {
			return nil, err
		}
	}
	slices.Sort(lat)
	return lat, nil
}

func waitEvent(events <-chan lock.Event, kind string) error {
	deadline := time.After(5 * time.Second)
	for {
		select {
		case e := <-events:
			if e.Kind == kind {
				return nil
			}
		case <-deadline:
			return fmt.Errorf("no %s event", kind)
		}
	}
}

func drain(events <-chan lock.Event) string {
	var b strings.Builder
	for {
		select {
		case e := <-events:
			fmt.Fprintf(&b, "%s/%s ", e.Kind, e.Reason)
		default:
			return b.String()
		}
	}
}

// recordKeypad keeps the last key events, to explain a failed iteration.
type recordKeypad struct {
	*gpio.Matrix
	mu   sync.Mutex
	last []gpio.KeyEvent
}

func (r *recordKeypad) Run(ctx context.Context, out chan<- gpio.KeyEvent) error {
	in := make(chan gpio.KeyEvent)
	go func() {
		for e := range in {
			r.mu.Lock()
			r.last = append(r.last, e)
			if len(r.last) > 40 {
				r.last = r.last[1:]
			}
			r.mu.Unlock()
			out <- e
		}
	}()
	return r.Matrix.Run(ctx, in)
}

func (r *recordKeypad) dump() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, e := range r.last {
		fmt.Fprintf(&b, "%s%s@%s ", e.Key, map[bool]string{true: "v", false: "^"}[e.Down], e.Time.Format("05.000"))
	}
	return b.String()
}

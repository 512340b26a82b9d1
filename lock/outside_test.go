package lock_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/lock"
	"lockd.dev/lockd/lock/locktest"
)

// TestAnnounce: a change made outside the core becomes one of its events,
// recorded by the sink once, with its source and caller, and published;
// a core that is not running does not take it, and says so.
func TestAnnounce(t *testing.T) {
	var mu sync.Mutex
	var sunk []lock.Event
	c, err := lock.New(lock.Config{Keypad: nopKeypad{}, Bolt: &locktest.Bolt{Pos: gpio.PosLocked},
		Codes: locktest.NewCodes("135790"), Log: discard(),
		Sink: func(e lock.Event) { mu.Lock(); sunk = append(sunk, e); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	events, stop := c.Subscribe(16)
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	<-c.Ready()

	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	e := lock.Event{Kind: lock.EventCodeAdded, Time: at, Source: lock.SourceDBus, UID: 1000, CodeID: 7, CodeKind: "user", Slot: 3}
	if err := c.Announce(context.Background(), e); err != nil {
		t.Fatalf("Announce: %v", err)
	}
	for got := range events {
		if got.Kind == lock.EventCodeAdded {
			if got != e {
				t.Errorf("published %+v, want %+v", got, e)
			}
			break
		}
	}
	mu.Lock()
	n := 0
	for _, s := range sunk {
		if s.Kind == lock.EventCodeAdded {
			n++
			if s != e {
				t.Errorf("sunk %+v, want %+v", s, e)
			}
		}
	}
	mu.Unlock()
	if n != 1 {
		t.Errorf("the sink recorded the change %d times, want once", n)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := c.Announce(ctx, e); !errors.Is(err, lock.ErrNotAnnounced) {
		t.Errorf("Announce to a stopped core: %v, want ErrNotAnnounced", err)
	}
	if err := c.Refresh(ctx); !errors.Is(err, context.Canceled) || errors.Is(err, lock.ErrNotAnnounced) {
		t.Errorf("Refresh of a stopped core: %v, want only the context's error", err)
	}
}

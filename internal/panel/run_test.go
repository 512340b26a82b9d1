package panel

import (
	"bytes"
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/lock"
)

// syncBuffer is an output the test can read while the program writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startRun(t *testing.T, ctx context.Context, quit func()) (*sim.Board, *io.PipeWriter, chan lock.Event, <-chan error) {
	t.Helper()
	board, err := sim.NewBoard(sim.BoardConfig{})
	if err != nil {
		t.Fatal(err)
	}
	in, keys := io.Pipe()
	t.Cleanup(func() { keys.Close() })
	events := make(chan lock.Event, 8)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Board: board, Core: &fakeCore{}, Events: events,
			Input: in, Output: &syncBuffer{}, Quit: quit})
	}()
	return board, keys, events, done
}

func waitRun(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
}

func TestRunQuitKey(t *testing.T) {
	var quit sync.Once
	quitted := make(chan struct{})
	board, keys, events, done := startRun(t, context.Background(), func() { quit.Do(func() { close(quitted) }) })
	opened := make(chan struct{}, 1)
	board.Door.Notify(func(open bool) {
		if open {
			opened <- struct{}{}
		}
	})
	events <- lock.Event{Kind: lock.EventLocked, Source: lock.SourceStart}
	if _, err := keys.Write([]byte("o")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-opened:
	case <-time.After(5 * time.Second):
		t.Fatal("o typed at the terminal did not open the door")
	}
	if _, err := keys.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	waitRun(t, done)
	select {
	case <-quitted:
	default:
		t.Error("Quit was not called")
	}
}

func TestRunContextCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	_, _, _, done := startRun(t, ctx, func() { t.Error("Quit called on cancel") })
	cancel()
	waitRun(t, done)
}

func TestRunNeedsBoardAndCore(t *testing.T) {
	if err := Run(context.Background(), Config{Core: &fakeCore{}}); err == nil {
		t.Error("Run without a board succeeded")
	}
	board, _ := sim.NewBoard(sim.BoardConfig{})
	if err := Run(context.Background(), Config{Board: board}); err == nil {
		t.Error("Run without a core succeeded")
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/internal/statelock"
	"lockd.dev/lockd/lock"
)

// TestOneLockdPerStateDir: a second lockd (or factory-init) on a state
// directory in use exits with an error naming the running one's PID, and
// the first one goes on.
func TestOneLockdPerStateDir(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	ready := make(chan *lock.Core, 1)
	o := options{sim: true, stateDir: dir, configPath: "/nonexistent", bus: "unix:path=/nonexistent/bus",
		onReady: func(_ *sim.Board, c *lock.Core) { ready <- c }}
	first := make(chan error, 1)
	go func() { first <- daemon(ctx, o) }()
	var core *lock.Core
	select {
	case core = <-ready:
	case err := <-first:
		t.Fatalf("first lockd: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("first lockd not ready")
	}
	o2 := o
	o2.onReady = func(*sim.Board, *lock.Core) { t.Error("second lockd got ready") }
	err := daemon(ctx, o2)
	want := fmt.Sprintf("pid %d", os.Getpid())
	if !errors.Is(err, statelock.ErrBusy) || !strings.Contains(err.Error(), want) {
		t.Errorf("second lockd: %v, want ErrBusy naming %s", err, want)
	}
	if err := factoryInit([]string{"--state-dir", dir, "--force"}, io.Discard, io.Discard); !errors.Is(err, statelock.ErrBusy) {
		t.Errorf("factory-init under a running lockd: %v, want ErrBusy", err)
	}
	if s := core.Status(); s.State != lock.StateLocked {
		t.Errorf("first lockd's state %v after the second was refused", s.State)
	}
	cancel()
	if err := <-first; err != nil {
		t.Errorf("first lockd: %v", err)
	}
}

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/internal/sdnotify"
	"lockd.dev/lockd/internal/sdnotify/sdnotifytest"
	"lockd.dev/lockd/lock"
	"lockd.dev/lockd/lock/locktest"
)

// TestStopMidTravel: SIGTERM (the context lockd's signal handler cancels)
// while the bolt moves stops the motor and returns within 2 s.
func TestStopMidTravel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	moving := make(chan *sim.Board, 1)
	o := options{sim: true, stateDir: t.TempDir(), configPath: "/nonexistent", bus: "unix:path=/nonexistent/bus", // no bus: the keypad path alone
		onReady: func(b *sim.Board, c *lock.Core) {
			go func() {
				if err := c.Unlock(ctx, lock.SourceDBus, 0); err != nil {
					t.Errorf("Unlock: %v", err)
				}
				for b.Motor.Moving() == 0 {
					time.Sleep(time.Millisecond)
				}
				moving <- b
			}()
		}}
	done := make(chan error, 1)
	go func() { done <- daemon(ctx, o) }()
	var b *sim.Board
	select {
	case b = <-moving:
	case err := <-done:
		t.Fatalf("daemon ended early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("bolt never started moving")
	}
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("daemon: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("daemon did not stop within 2 s of SIGTERM")
	}
	t.Logf("stopped %v after cancel", time.Since(start))
	if b.Motor.Moving() != 0 {
		t.Error("motor still energised after shutdown")
	}
	if p := b.Motor.Position(); p == sim.BoltUnlocked || p == sim.BoltLocked {
		t.Errorf("bolt at %v: it should have stopped mid-travel", p)
	}
}

// TestBinaryNotifiesAndStops runs the real binary under a fake systemd:
// READY=1 with a STATUS line, watchdog pings, and a clean exit 0 on SIGTERM.
func TestBinaryNotifiesAndStops(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "lockd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	sock, msgs := sdnotifytest.Listen(t)
	cmd := exec.Command(bin, "--sim", "--state-dir", t.TempDir(), "--bus", "unix:path=/nonexistent/bus")
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock, "WATCHDOG_USEC=200000")
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	ready := sdnotifytest.Wait(t, msgs, "READY=1")
	t.Logf("exec to READY=1: %v", time.Since(start))
	if !strings.Contains(ready, "STATUS=locked, door closed; SETUP INCOMPLETE") {
		t.Errorf("READY message %q lacks the status line", ready)
	}
	sdnotifytest.Wait(t, msgs, "WATCHDOG=1")
	sdnotifytest.Wait(t, msgs, "WATCHDOG=1")
	stop := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Fatalf("lockd exited with %v, want 0", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("lockd did not exit within 2 s of SIGTERM")
	}
	t.Logf("SIGTERM to exit: %v", time.Since(stop))
	sdnotifytest.Wait(t, msgs, "STOPPING=1")
}

// TestHungLoopStopsWatchdog: a code store that never answers hangs the
// core's loop; the watchdog pings stop so systemd restarts lockd.
func TestHungLoopStopsWatchdog(t *testing.T) {
	sock, msgs := sdnotifytest.Listen(t)
	t.Setenv("NOTIFY_SOCKET", sock)
	board, err := sim.NewBoard(sim.BoardConfig{Start: sim.BoltLocked})
	if err != nil {
		t.Fatal(err)
	}
	kp, err := newTestKeypad(board)
	if err != nil {
		t.Fatal(err)
	}
	codes := locktest.NewCodes("135790", "2580")
	codes.Block = make(chan struct{})
	defer close(codes.Block)
	core, err := lock.New(lock.Config{Keypad: kp, Bolt: &locktest.Bolt{Pos: 1}, Codes: codes})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go core.Run(ctx)
	<-core.Ready()
	go sdnotify.Watchdog(ctx, 40*time.Millisecond, loopAlive(core, 300*time.Millisecond), sdnotify.Send)
	sdnotifytest.Wait(t, msgs, "WATCHDOG=1")
	// A code typed through the scanner reaches the hung store.
	if err := board.Matrix.Type(ctx, "2580#", 30*time.Millisecond, 30*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond) // longer than the staleness limit
	for len(msgs) > 0 {
		<-msgs
	}
	select {
	case m := <-msgs:
		t.Fatalf("watchdog still pinging with a hung loop: %q", m)
	case <-time.After(500 * time.Millisecond):
	}
}

// TestUnreadableStoreKeepsKeypadClosed: a code store that cannot be opened
// leaves lockd up, degraded, saying why, and opening nothing.
func TestUnreadableStoreKeepsKeypadClosed(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "codes.db"), 0o700); err != nil { // not a database
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	checked := make(chan error, 1)
	o := options{sim: true, stateDir: dir, configPath: "/nonexistent", bus: "unix:path=/nonexistent/bus", // no bus: the keypad path alone
		onReady: func(b *sim.Board, c *lock.Core) {
			go func() {
				events, stop := c.Subscribe(64)
				defer stop()
				s := c.Status()
				if len(s.Warnings()) == 0 || s.Provisioned {
					checked <- fmt.Errorf("status %+v: want a health warning and unprovisioned", s)
					return
				}
				if err := b.Press(ctx, "12345678#"); err != nil {
					checked <- err
					return
				}
				for e := range events {
					if e.Kind == lock.EventDenied {
						if e.Reason != lock.ReasonError {
							checked <- fmt.Errorf("denied for %q, want %q", e.Reason, lock.ReasonError)
						}
						break
					}
				}
				if b.Motor.Position() != sim.BoltLocked || b.Motor.Moving() != 0 {
					checked <- fmt.Errorf("bolt moved with no code store")
				}
				checked <- nil
			}()
		}}
	done := make(chan error, 1)
	go func() { done <- daemon(ctx, o) }()
	select {
	case err := <-checked:
		if err != nil {
			t.Fatal(err)
		}
	case err := <-done:
		t.Fatalf("daemon ended: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("timed out")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

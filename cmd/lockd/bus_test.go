package main

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/internal/dbustest"
	"lockd.dev/lockd/internal/sdnotify/sdnotifytest"
)

// TestBusRestart restarts dbus-daemon under the real binary: STATUS= says
// lockd is off the bus, then that it is well again; lockd owns
// io.lockd.Lock1 again by itself and busctl calls it.
func TestBusRestart(t *testing.T) {
	dbustest.EnsureGroups(t)
	b := dbustest.Start(t, dbustest.Options{})
	sock, msgs := sdnotifytest.Listen(t)
	cmd := exec.Command(lockdBinary(t), "--sim", "--state-dir", t.TempDir(), "--bus", b.Address)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if ready := sdnotifytest.Wait(t, msgs, "READY=1"); strings.Contains(ready, "dbus") {
		t.Errorf("READY with a D-Bus warning: %q", ready)
	}
	start := time.Now()
	b.Restart(t)
	lost := sdnotifytest.Wait(t, msgs, "dbus: off the")
	t.Logf("lost: %q", lost)
	back := waitStatus(t, msgs, func(s string) bool { return !strings.Contains(s, "dbus") })
	t.Logf("well again %v after the restart began: %q", time.Since(start).Round(time.Millisecond), back)
	for _, args := range [][]string{
		{"call", wire.BusName, string(wire.ObjectPath), wire.Lock1, "Unlock"},
		{"get-property", wire.BusName, string(wire.ObjectPath), wire.Lock1, wire.PropHealth},
	} {
		res := b.Busctl(t, dbustest.Root, args...)
		if !res.OK() || strings.Contains(res.Stdout, "dbus") {
			t.Errorf("busctl %v after the restart: %v %q", args, res.Err, res.Output())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("lockd exited with %v, want 0", err)
	}
}

// waitStatus returns the first STATUS= notification for which ok holds,
// failing the test after 45 s (the longest backoff step and more).
func waitStatus(t *testing.T, msgs <-chan string, ok func(string) bool) string {
	t.Helper()
	deadline := time.After(45 * time.Second)
	for {
		select {
		case m := <-msgs:
			if s, found := strings.CutPrefix(m, "STATUS="); found && ok(s) {
				return s
			}
		case <-deadline:
			t.Fatal("no such STATUS= within 45 s")
			return ""
		}
	}
}

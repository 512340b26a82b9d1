package main

import (
	"context"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/internal/simbus"
	"lockd.dev/lockd/internal/testtool"
)

// TestNoSessionBus: without a session bus lockctl says so and how to get
// one, instead of godbus's `exec: "dbus-launch"` (an X11 program).
func TestNoSessionBus(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", "")
	code, _, errOut := runCLI(t, "", "--bus", "session", "status")
	want := "lockctl: there is no session bus here (DBUS_SESSION_BUS_ADDRESS is not set): start one with `dbus-run-session -- bash`, or use --bus sim against `make run`\n"
	if code != 1 || errOut != want {
		t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, want)
	}
}

// TestNoSimulator: --bus sim in a directory where `make run` is not
// running says so.
func TestNoSimulator(t *testing.T) {
	t.Chdir(t.TempDir())
	code, _, errOut := runCLI(t, "", "--bus", "sim", "status")
	want := "lockctl: the simulator is not running here: no .lockd-sim/bus (start it with `make run` in this directory)\n"
	if code != 1 || errOut != want {
		t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, want)
	}
}

// silentLockd owns lockd's name and answers nothing until the test ends,
// as a stopped or hung lockd does.
type silentLockd struct{ done <-chan struct{} }

func (s silentLockd) GetAll(string) (map[string]dbus.Variant, *dbus.Error) {
	<-s.done
	return nil, nil
}

// TestBusErrors: lockd missing from the bus, and lockd silent on it, are
// each said in one sentence that names the bus and what to check; a
// silent lockd ends the call after --timeout instead of hanging.
func TestBusErrors(t *testing.T) {
	testtool.Need(t, "dbus-daemon", "dbus")
	b, err := simbus.Start(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })

	code, _, errOut := runCLI(t, "", "--bus", b.Address, "status")
	want := "lockctl: lockd is not running on the bus at " + b.Address + " (nobody owns io.lockd.Lock1): run lockd --bus " + b.Address + "\n"
	if code != 1 || errOut != want {
		t.Errorf("nobody on the bus: exit %d, stderr %q; want 1 and %q", code, errOut, want)
	}

	conn, err := wire.Dial(b.Address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	if err := conn.Export(silentLockd{done}, wire.ObjectPath, "org.freedesktop.DBus.Properties"); err != nil {
		t.Fatal(err)
	}
	if r, err := conn.RequestName(wire.BusName, dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("RequestName: %v %v", r, err)
	}
	code, _, errOut = runCLI(t, "", "--bus", b.Address, "--timeout", "100ms", "status")
	want = "lockctl: lockd did not answer within 0.1 s on the bus at " + b.Address + "; is lockd running? (ps -C lockd)\n"
	if code != 1 || errOut != want {
		t.Errorf("silent lockd: exit %d, stderr %q; want 1 and %q", code, errOut, want)
	}
}

// TestSecondsSpelling: timeouts are said as people set them.
func TestSecondsSpelling(t *testing.T) {
	for d, want := range map[time.Duration]string{25 * time.Second: "25 s", 1500 * time.Millisecond: "1.5 s", 100 * time.Millisecond: "0.1 s"} {
		if got := seconds(d); got != want {
			t.Errorf("seconds(%v) = %q, want %q", d, got, want)
		}
	}
}

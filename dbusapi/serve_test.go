package dbusapi_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi"
	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/internal/dbustest"
)

// TestSecondLockdFails: a second service on the same bus fails at once
// and says who owns the name; the first keeps it. After the first stops,
// the name is free again.
func TestSecondLockdFails(t *testing.T) {
	r := newRig(t, rigOptions{})
	conn := r.bus.Conn(t)
	svc, err := dbusapi.New(dbusapi.Config{Conn: conn, Lock: r.core, Codes: r.store, Log: discard()})
	if err != nil {
		t.Fatal(err)
	}
	err = svc.Serve(context.Background())
	if !errors.Is(err, dbusapi.ErrNameTaken) || !strings.Contains(err.Error(), "another lockd") {
		t.Fatalf("second Serve: %v, want ErrNameTaken", err)
	}
	if got := r.prop(t, wire.PropState); got != "locked" {
		t.Errorf("first service answers State=%v", got)
	}

	// Stop the first; a new one on the same connection takes over.
	var owner string
	if err := r.client.BusObject().Call("org.freedesktop.DBus.GetNameOwner", 0, wire.BusName).Store(&owner); err != nil {
		t.Fatal(err)
	}
	stopped := r.bus.Signals(t, dbus.WithMatchSender("org.freedesktop.DBus"), dbus.WithMatchMember("NameOwnerChanged"), dbus.WithMatchArg(0, wire.BusName))
	r.stopService(t)
	s := <-stopped
	if s.Body[1] != owner || s.Body[2] != "" {
		t.Errorf("NameOwnerChanged %v, want %s released", s.Body, owner)
	}
	svc, err = dbusapi.New(dbusapi.Config{Conn: conn, Lock: r.core, Codes: r.store, Log: discard()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx) }()
	select {
	case <-svc.Ready():
	case err := <-done:
		t.Fatalf("Serve after the first stopped: %v", err)
	}
	if res := r.bus.Busctl(t, dbustest.Root, "get-property", wire.BusName, string(wire.ObjectPath), wire.Lock1, wire.PropState); !res.OK() {
		t.Errorf("new service: %v %s", res.Err, res.Output())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// TestUnprivilegedCannotOwnName: the policy keeps the name from anyone
// but root and user lockd.
func TestUnprivilegedCannotOwnName(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.stopService(t)
	for _, u := range []dbustest.User{r.nobody(), r.admin(), r.reader()} {
		res := r.bus.Busctl(t, u, "call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName", "su", wire.BusName, "4")
		if res.OK() {
			t.Errorf("%s owns %s: %s", u, wire.BusName, res.Stdout)
		}
	}
}

func TestNewChecksConfig(t *testing.T) {
	if _, err := dbusapi.New(dbusapi.Config{}); err == nil || !strings.HasPrefix(err.Error(), "dbusapi: ") {
		t.Errorf("New without a connection: %v", err)
	}
	if _, err := dbusapi.New(dbusapi.Config{Conn: new(dbus.Conn)}); err == nil {
		t.Error("New without a lock: no error")
	}
	if _, err := dbusapi.Dial("unix:path=/nonexistent/bus"); err == nil || !strings.HasPrefix(err.Error(), "dbusapi: ") {
		t.Errorf("Dial of a missing socket: %v", err)
	}
}

package lockbus_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"

	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/internal/dbustest"
	"lockd.dev/lockd/mqtt/lockbus"
)

// fakeLockd owns io.lockd.Lock1 on the bus and serves Lock1's
// properties, with or without the optional ones.
type fakeLockd struct {
	conn  *dbus.Conn
	props *prop.Properties
}

func startFake(t *testing.T, b *dbustest.Bus, optional bool) *fakeLockd {
	t.Helper()
	c, err := dbus.Connect(b.Address)
	if err != nil {
		t.Fatal(err)
	}
	lock1 := map[string]*prop.Prop{
		wire.PropState:          {Value: "locked", Emit: prop.EmitTrue},
		wire.PropDoorOpen:       {Value: false, Emit: prop.EmitTrue},
		wire.PropHasDoor:        {Value: true, Emit: prop.EmitTrue},
		wire.PropProvisioned:    {Value: true, Emit: prop.EmitTrue},
		wire.PropLockedOutUntil: {Value: uint64(0), Emit: prop.EmitTrue},
		wire.PropMode:           {Value: "idle", Emit: prop.EmitTrue},
		wire.PropHealth:         {Value: []string{}, Emit: prop.EmitTrue},
	}
	if optional {
		lock1[lockbus.PropOperatingMode] = &prop.Prop{Value: "vacation", Emit: prop.EmitTrue}
		lock1[lockbus.PropAlarms] = &prop.Prop{Value: []string{"forced-open"}, Emit: prop.EmitTrue}
	}
	p, err := prop.Export(c, wire.ObjectPath, prop.Map{wire.Lock1: lock1})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := c.RequestName(wire.BusName, dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("fake lockd: RequestName: %v %v", r, err)
	}
	f := &fakeLockd{conn: c, props: p}
	t.Cleanup(func() { c.Close() })
	return f
}

func (f *fakeLockd) event(t *testing.T, kind string) {
	t.Helper()
	err := f.conn.Emit(wire.ObjectPath, wire.Lock1+"."+wire.Event, kind,
		map[string]dbus.Variant{wire.KeySource: dbus.MakeVariant("keypad"), wire.KeyUID: dbus.MakeVariant(int32(-1))})
	if err != nil {
		t.Fatal(err)
	}
}

func watch(t *testing.T, bus string) <-chan lockbus.Update {
	t.Helper()
	ch := make(chan lockbus.Update, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	w := lockbus.New(bus, slog.New(slog.NewTextHandler(io.Discard, nil)))
	go func() { w.Run(ctx, ch); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return ch
}

// next returns the next update that satisfies ok, within a ceiling.
func next(t *testing.T, ch <-chan lockbus.Update, what string, ok func(lockbus.Update) bool) lockbus.Update {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case u := <-ch:
			if ok(u) {
				return u
			}
		case <-deadline:
			t.Fatalf("no update: %s", what)
		}
	}
}

func snapshot(u lockbus.Update) bool { return u.Snapshot != nil }
func gone(u lockbus.Update) bool     { return u.Snapshot == nil && u.Event == nil }

// TestWatcher: optional properties are read when lockd has them and
// absent when it does not; property changes and events from lockd
// arrive; a signal from anyone else does not; lockd and the bus
// restarting are followed.
func TestWatcher(t *testing.T) {
	dbustest.EnsureGroups(t)
	b := dbustest.Start(t, dbustest.Options{})
	f := startFake(t, b, true)
	ch := watch(t, b.Address)

	s := next(t, ch, "first snapshot", snapshot).Snapshot
	if !s.HasAlarms || s.Alarms[0] != "forced-open" || !s.HasOperatingMode || s.OperatingMode != "vacation" || s.State != "locked" {
		t.Fatalf("snapshot %+v, want the optional properties read", s)
	}
	if s.Update != nil {
		t.Errorf("Update %+v from a lockd without Update1", s.Update)
	}
	f.props.SetMust(wire.Lock1, wire.PropDoorOpen, true)
	next(t, ch, "door open", func(u lockbus.Update) bool { return u.Snapshot != nil && u.Snapshot.DoorOpen })

	// A signal that looks like lockd's, from another connection.
	spoof := b.Conn(t)
	if err := spoof.Emit(wire.ObjectPath, wire.Lock1+"."+wire.Event, "granted",
		map[string]dbus.Variant{wire.KeySource: dbus.MakeVariant("dbus")}); err != nil {
		t.Fatal(err)
	}
	f.event(t, "denied")
	if e := next(t, ch, "an event", func(u lockbus.Update) bool { return u.Event != nil }).Event; e.Kind != "denied" || e.Source != "keypad" {
		t.Fatalf("first event %+v, want lockd's denied (the spoofed granted must not count)", e)
	}

	// lockd restarts, without the optional properties this time.
	f.conn.Close()
	next(t, ch, "lockd gone", gone)
	startFake(t, b, false)
	s = next(t, ch, "lockd back", snapshot).Snapshot
	if s.HasAlarms || s.HasOperatingMode {
		t.Errorf("snapshot %+v: optional properties of a lockd that has none", s)
	}

	// The bus restarts: gone, then back once lockd is.
	b.Restart(t)
	next(t, ch, "bus gone", gone)
	startFake(t, b, true)
	next(t, ch, "after the bus restart", func(u lockbus.Update) bool { return u.Snapshot != nil && u.Snapshot.HasAlarms })
}

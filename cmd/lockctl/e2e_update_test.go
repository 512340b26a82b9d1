package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"
	"github.com/godbus/dbus/v5/prop"

	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/internal/dbustest"
)

// updaterStandIn serves io.lockd.Update1 as DESIGN.md specifies it, until
// lockd has an updater: it is the only way to run `lockctl update` against
// an Update1 today (through a real dbus-daemon, with the bundle passed as
// a file descriptor). When lockd serves Update1, TestE2EUpdate covers the
// real one and this test can go.
type updaterStandIn struct {
	t     *testing.T
	props *prop.Properties
	got   chan string // the bundle's contents, as read through the fd
}

func (u *updaterStandIn) Install(fd dbus.UnixFD) *dbus.Error {
	f := os.NewFile(uintptr(fd), "bundle")
	b, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return dbus.MakeFailedError(err)
	}
	u.got <- string(b)
	u.props.SetMust("io.lockd.Update1", "LastError", "")
	u.props.SetMust("io.lockd.Update1", "Operation", "writing")
	go func() { // like a real install: accepted now, phases and progress later
		for _, p := range []int32{10, 50, 100} {
			u.props.SetMust("io.lockd.Update1", "Progress", p)
		}
		u.props.SetMust("io.lockd.Update1", "Operation", "verifying")
		if strings.Contains(string(b), "bad") {
			u.props.SetMust("io.lockd.Update1", "LastError", "bundle: signature does not verify")
			u.props.SetMust("io.lockd.Update1", "Operation", "idle")
			return
		}
		u.props.SetMust("io.lockd.Update1", "Operation", "pending")
	}()
	return nil
}

func (u *updaterStandIn) Approve() *dbus.Error {
	u.props.SetMust("io.lockd.Update1", "Operation", "rebooting")
	return nil
}

func (u *updaterStandIn) Reject() *dbus.Error { return nil }

func TestE2EUpdateInterface(t *testing.T) {
	dbustest.RequireRoot(t)
	dbustest.Need(t, "dbus-daemon")
	r := &rig{t: t, groups: dbustest.EnsureGroups(t), bin: buildBinaries(t)}
	r.bus = dbustest.Start(t, dbustest.Options{})
	conn := r.bus.Conn(t)
	u := &updaterStandIn{t: t, got: make(chan string, 1)}
	var err error
	u.props, err = prop.Export(conn, wire.ObjectPath, prop.Map{"io.lockd.Update1": {
		"Operation":  {Value: "idle", Emit: prop.EmitTrue},
		"Progress":   {Value: int32(0), Emit: prop.EmitTrue},
		"LastError":  {Value: "", Emit: prop.EmitTrue},
		"BootedSlot": {Value: "A", Emit: prop.EmitTrue},
		"Slots": {Value: map[string]map[string]dbus.Variant{
			"A": {"version": dbus.MakeVariant("1.0.0"), "state": dbus.MakeVariant("good")},
			"B": {"version": dbus.MakeVariant("0.9.0"), "state": dbus.MakeVariant("inactive")},
		}, Emit: prop.EmitTrue},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Export(u, wire.ObjectPath, "io.lockd.Update1"); err != nil {
		t.Fatal(err)
	}
	node := &introspect.Node{Interfaces: []introspect.Interface{introspect.IntrospectData, prop.IntrospectData,
		{Name: "io.lockd.Update1", Methods: introspect.Methods(u), Properties: u.props.Introspection("io.lockd.Update1")}}}
	if err := conn.Export(introspect.NewIntrospectable(node), wire.ObjectPath, "org.freedesktop.DBus.Introspectable"); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName(wire.BusName, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("request name: %v %v", reply, err)
	}

	res := r.want(0, "", "update", "status")
	wantOutput(t, res, "Booted slot: A", "Operation: idle", "Last error: none", "Slot A: state=good version=1.0.0",
		"Slot B: state=inactive version=0.9.0")

	bundle := filepath.Join(t.TempDir(), "lockd-1.1.0.bundle")
	if err := os.WriteFile(bundle, []byte("bundle bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	res = r.want(0, "", "update", "install", bundle)
	wantOutput(t, res, "Update installed (pending)")
	if got := <-u.got; got != "bundle bytes" {
		t.Errorf("lockd read %q through the fd, want the bundle", got)
	}
	// The caller opens the file: one only root can read stays unreadable
	// to anyone else, whatever lockd could open.
	res = r.wantAs(r.admin(), 1, "", "update", "install", bundle)
	wantOutput(t, res, "update install: open "+bundle+": permission denied")
	r.want(0, "", "update", "approve")
	res = r.want(0, "", "--json", "update", "status")
	wantOutput(t, res, `"operation": "rebooting"`, `"booted_slot": "A"`)

	bad := filepath.Join(t.TempDir(), "bad.bundle")
	if err := os.WriteFile(bad, []byte("bad bundle"), 0o644); err != nil {
		t.Fatal(err)
	}
	res = r.want(1, "", "update", "install", bad)
	wantOutput(t, res, "lockctl: update install: bundle: signature does not verify")
	<-u.got
}

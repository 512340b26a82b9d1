package dbustest_test

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/internal/dbustest"
)

const name = "io.lockd.Lock1"

// TestBus starts a bus and checks what the lockd tests rely on: it is a
// system bus with the shipped policy, root may own lockd's name and others
// may not, unprivileged clients reach it, and the bus reports the groups
// a client runs with.
func TestBus(t *testing.T) {
	for _, tool := range []string{"busctl", "gdbus", "dbus-send", "setpriv"} {
		dbustest.Need(t, tool)
	}
	g := dbustest.EnsureGroups(t)
	if again := dbustest.EnsureGroups(t); again != g {
		t.Errorf("EnsureGroups twice: %v then %v", g, again)
	}
	b := dbustest.Start(t, dbustest.Options{})
	conf, err := os.ReadFile(b.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<type>system</type>", "<include>" + dbustest.PolicyFile(t) + "</include>", `<deny own="*"/>`} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("config has no %s", want)
		}
	}

	for _, u := range []dbustest.User{dbustest.Root, dbustest.Unprivileged(), dbustest.Unprivileged(g.Admin)} {
		if res := b.Busctl(t, u, "call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetId"); !res.OK() {
			t.Errorf("%s: GetId: %v\n%s", u, res.Err, res.Output())
		}
		if res := b.DBusSend(t, u, "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus.GetId"); !res.OK() {
			t.Errorf("%s: dbus-send GetId: %v\n%s", u, res.Err, res.Output())
		}
	}
	for _, u := range []dbustest.User{dbustest.Unprivileged(), dbustest.Unprivileged(g.Admin), dbustest.Unprivileged(g.Lockd)} {
		res := b.Busctl(t, u, "call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName", "su", name, "4")
		if res.OK() {
			t.Errorf("%s may own %s", u, name)
		}
	}
	c := b.Conn(t)
	if r, err := c.RequestName(name, dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Errorf("root RequestName: %v %v", r, err)
	}
}

// TestCredentials documents what lockd's authorisation relies on: this
// dbus-daemon reports UnixGroupIDs, the client's real groups (its primary
// group included), as set by setpriv.
func TestCredentials(t *testing.T) {
	dbustest.Need(t, "gdbus")
	g := dbustest.EnsureGroups(t)
	b := dbustest.Start(t, dbustest.Options{})
	c := b.Conn(t)
	for _, tc := range []struct {
		u    dbustest.User
		want []uint32
	}{
		{dbustest.Unprivileged(), []uint32{dbustest.Nobody}},
		{dbustest.Unprivileged(g.Admin), []uint32{uint32(g.Admin), dbustest.Nobody}},
		{dbustest.Unprivileged(g.Lockd, g.Admin), []uint32{uint32(g.Lockd), uint32(g.Admin), dbustest.Nobody}},
	} {
		// A client that stays connected: gdbus monitor, as u.
		mon := b.Spawn(t, tc.u, "gdbus", "monitor", "--address", b.Address, "--dest", "org.freedesktop.DBus")
		mon.WaitLine(t, "Monitoring signals")
		var names []string
		if err := c.BusObject().Call("org.freedesktop.DBus.ListNames", 0).Store(&names); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, n := range names {
			if !strings.HasPrefix(n, ":") || n == c.Names()[0] {
				continue
			}
			var creds map[string]dbus.Variant
			if err := c.BusObject().Call("org.freedesktop.DBus.GetConnectionCredentials", 0, n).Store(&creds); err != nil {
				continue // gone meanwhile
			}
			if pid, _ := creds["ProcessID"].Value().(uint32); int(pid) != mon.Cmd.Process.Pid {
				continue
			}
			found = true
			if uid := creds["UnixUserID"].Value(); uid != uint32(dbustest.Nobody) {
				t.Errorf("%s: UnixUserID %v", tc.u, uid)
			}
			gids, ok := creds["UnixGroupIDs"].Value().([]uint32)
			if !ok {
				t.Fatalf("%s: this dbus-daemon reports no UnixGroupIDs: %v", tc.u, creds)
			}
			if !sameSet(gids, tc.want) {
				t.Errorf("%s: UnixGroupIDs %v, want %v", tc.u, gids, tc.want)
			}
		}
		if !found {
			t.Errorf("%s: the monitor's connection (pid %d) is not on the bus", tc.u, mon.Cmd.Process.Pid)
		}
	}
}

func sameSet(a, b []uint32) bool {
	m := map[uint32]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

func TestUserString(t *testing.T) {
	for u, want := range map[string]string{
		dbustest.Root.String():               "root",
		dbustest.Unprivileged().String():     "nobody",
		dbustest.Unprivileged(5, 7).String(): "nobody+groups[5 7]",
		strconv.Itoa(dbustest.Nobody):        "65534",
	} {
		if u != want {
			t.Errorf("%q, want %q", u, want)
		}
	}
}

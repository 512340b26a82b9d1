package dbusapi_test

import (
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5/introspect"
	"github.com/google/go-cmp/cmp"

	"lockd.dev/lockd/dbusapi"
	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/internal/dbustest"
)

var update = flag.Bool("update", false, "rewrite systemd/io.lockd.Lock1.xml from the service's introspection")

var xmlFile = filepath.Join("..", "systemd", "io.lockd.Lock1.xml")

// TestXMLFile keeps the shipped interface file what the code generates.
func TestXMLFile(t *testing.T) {
	want := dbusapi.InterfaceXML()
	if *update {
		if err := os.WriteFile(xmlFile, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(xmlFile)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("%s is stale; run go test ./dbusapi -run XML -update (-want +got):\n%s", xmlFile, diff)
	}
}

// lockdInterfaces returns the io.lockd.* interfaces of an introspection.
func lockdInterfaces(t *testing.T, data string) []introspect.Interface {
	t.Helper()
	var n introspect.Node
	if err := xml.Unmarshal([]byte(data), &n); err != nil {
		t.Fatalf("introspection does not parse: %v\n%s", err, data)
	}
	var out []introspect.Interface
	for _, i := range n.Interfaces {
		if strings.HasPrefix(i.Name, "io.lockd.") {
			out = append(out, i)
		}
	}
	return out
}

// normalize drops whitespace between and inside tags, so layout does not
// count.
func normalize(t *testing.T, ifaces []introspect.Interface) string {
	t.Helper()
	b, err := xml.Marshal(ifaces)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(string(b)), " ")
}

// TestXMLFileMatchesLive compares the shipped file with what the running
// service answers to busctl and gdbus introspection.
func TestXMLFileMatchesLive(t *testing.T) {
	r := newRig(t, rigOptions{})
	file, err := os.ReadFile(xmlFile)
	if err != nil {
		t.Fatal(err)
	}
	want := lockdInterfaces(t, string(file))
	if len(want) != 5 {
		t.Fatalf("%s has %d io.lockd interfaces, want Lock1, Codes1, Users1, Update1, Simulator1", xmlFile, len(want))
	}
	for _, c := range []struct {
		name string
		res  dbustest.Result
	}{
		{"busctl introspect --xml-interface", r.bus.Busctl(t, dbustest.Root, "introspect", "--xml-interface", wire.BusName, string(wire.ObjectPath))},
		{"gdbus introspect --xml", r.bus.Gdbus(t, r.reader(), "introspect", "--xml", "--dest", wire.BusName, "--object-path", string(wire.ObjectPath))},
	} {
		if !c.res.OK() {
			t.Fatalf("%s: %v\n%s", c.name, c.res.Err, c.res.Output())
		}
		live := lockdInterfaces(t, c.res.Stdout)
		if diff := cmp.Diff(normalize(t, want), normalize(t, live)); diff != "" {
			t.Errorf("%s differs from %s (-file +live):\n%s", c.name, xmlFile, diff)
		}
		for _, std := range []string{"org.freedesktop.DBus.Properties", "org.freedesktop.DBus.Introspectable", "org.freedesktop.DBus.Peer"} {
			if !strings.Contains(c.res.Stdout, `<interface name="`+std+`">`) {
				t.Errorf("%s: no %s", c.name, std)
			}
		}
	}
	// busctl's table view lists every member, with its signature.
	res := r.bus.Busctl(t, dbustest.Root, "introspect", wire.BusName, string(wire.ObjectPath), wire.Codes1)
	for _, want := range []string{".Add", "ssa{sv}", ".List", "a(usa{sv})", ".Log", "a(ta{sv})"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("busctl introspect %s: no %q in\n%s", wire.Codes1, want, res.Stdout)
		}
	}
}

// TestNoSimulatorWithoutSim: without a simulated board Simulator1 is
// neither introspected nor callable.
func TestNoSimulatorWithoutSim(t *testing.T) {
	r := newRig(t, rigOptions{noSim: true})
	res := r.bus.Busctl(t, dbustest.Root, "introspect", "--xml-interface", wire.BusName, string(wire.ObjectPath))
	if !res.OK() || strings.Contains(res.Stdout, wire.Simulator1) || !strings.Contains(res.Stdout, wire.Codes1) {
		t.Errorf("introspection without sim: %v\n%s", res.Err, res.Output())
	}
	res = r.gcall(t, dbustest.Root, wire.Simulator1+".SetDoor", "true")
	if res.OK() || !strings.Contains(res.Stderr, "UnknownInterface") && !strings.Contains(res.Stderr, "UnknownMethod") {
		t.Errorf("Simulator1.SetDoor without sim: %v %q", res.Err, res.Output())
	}
}

// TestNoUpdaterWithoutUpdater: without an updater Update1 is neither
// introspected, nor callable, nor readable.
func TestNoUpdaterWithoutUpdater(t *testing.T) {
	r := newRig(t, rigOptions{noUpdater: true})
	res := r.bus.Busctl(t, dbustest.Root, "introspect", "--xml-interface", wire.BusName, string(wire.ObjectPath))
	if !res.OK() || strings.Contains(res.Stdout, wire.Update1) || !strings.Contains(res.Stdout, wire.Codes1) {
		t.Errorf("introspection without updater: %v\n%s", res.Err, res.Output())
	}
	res = r.gcall(t, dbustest.Root, wire.Update1+".Approve")
	if res.OK() || !strings.Contains(res.Stderr, "UnknownInterface") && !strings.Contains(res.Stderr, "UnknownMethod") {
		t.Errorf("Update1.Approve without updater: %v %q", res.Err, res.Output())
	}
	if _, err := r.obj.GetProperty(wire.Update1 + "." + wire.PropOperation); err == nil {
		t.Error("Update1.Operation readable without updater")
	}
}

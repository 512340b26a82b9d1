package systemd_test

import (
	"bufio"
	"encoding/xml"
	"html"

	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lockd.dev/lockd/internal/testtool"
)

// The D-Bus policy's behaviour is tested with a real dbus-daemon and real
// clients in package dbusapi; this checks it fits the other files here.

const policyFile = "io.lockd.Lock1.conf"

type busconfig struct {
	Policies []struct {
		Context string `xml:"context,attr"`
		User    string `xml:"user,attr"`
		Group   string `xml:"group,attr"`
		Rules   []struct {
			XMLName xml.Name
			Attrs   []xml.Attr `xml:",any,attr"`
		} `xml:",any"`
	} `xml:"policy"`
}

func readPolicy(t *testing.T) busconfig {
	t.Helper()
	b, err := os.ReadFile(policyFile)
	if err != nil {
		t.Fatal(err)
	}
	var c busconfig
	d := xml.NewDecoder(strings.NewReader(string(b)))
	d.Strict = true
	if err := d.Decode(&c); err != nil {
		t.Fatalf("%s: %v", policyFile, err)
	}
	return c
}

// TestPolicyFitsUnitAndSysusers: the unit's user may own the bus name, and
// every user and group the policy names is created by lockd.sysusers (a
// policy rule for a missing group is silently ignored by dbus-daemon).
func TestPolicyFitsUnitAndSysusers(t *testing.T) {
	c := readPolicy(t)
	unit, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	s := serviceSettings(t, unit)
	owners := map[string]bool{}
	var users, groups []string
	for _, p := range c.Policies {
		switch {
		case p.User != "":
			users = append(users, p.User)
		case p.Group != "":
			groups = append(groups, p.Group)
		case p.Context != "default":
			t.Errorf("%s: a policy that is neither default nor for a user or group", policyFile)
		}
		for _, r := range p.Rules {
			for _, a := range r.Attrs {
				if r.XMLName.Local == "allow" && a.Name.Local == "own" && a.Value == s["BusName"][0] && p.User != "" {
					owners[p.User] = true
				}
				if r.XMLName.Local == "allow" && p.Context == "default" {
					t.Errorf("%s: the default context allows %s=%q: everyone would get it", policyFile, a.Name.Local, a.Value)
				}
			}
		}
	}
	if u := s["User"][0]; !owners[u] {
		t.Errorf("%s: User=%s may not own BusName=%s under %s (owners: %v)", unitFile, u, s["BusName"][0], policyFile, owners)
	}

	sysusers := testtool.Need(t, "systemd-sysusers", "systemd")
	conf, err := os.ReadFile("lockd.sysusers")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, conf, sysusers, "--root="+root, "-")
	names := func(file string) []string {
		b, err := os.ReadFile(filepath.Join(root, "etc", file))
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			n = append(n, strings.Split(line, ":")[0])
		}
		return n
	}
	passwd, group := names("passwd"), names("group")
	for _, u := range users {
		if u != "root" && !slices.Contains(passwd, u) {
			t.Errorf("%s names user %s, which lockd.sysusers does not create", policyFile, u)
		}
	}
	for _, g := range groups {
		if !slices.Contains(group, g) {
			t.Errorf("%s names group %s, which lockd.sysusers does not create", policyFile, g)
		}
	}
	for _, g := range []string{"lockd", "lockd-admin"} {
		if !slices.Contains(groups, g) {
			t.Errorf("%s has no policy for group %s (DESIGN.md)", policyFile, g)
		}
	}
}

const activationFile = "io.lockd.Lock1.service"

// TestActivationFile: the bus activation file names the unit's bus name,
// user and unit, and a system-bus dbus-daemon lists the name as
// activatable from it.
func TestActivationFile(t *testing.T) {
	b, err := os.ReadFile(activationFile)
	if err != nil {
		t.Fatal(err)
	}
	unit, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	s := serviceSettings(t, unit)
	got := settings(t, activationFile, b, "D-BUS Service")
	want := map[string][]string{
		"Name": s["BusName"],
		// Only through systemd: without it, activation fails.
		"Exec":           {"/bin/false"},
		"User":           s["User"],
		"SystemdService": {unitFile},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s does not fit %s (-want +got):\n%s", activationFile, unitFile, diff)
	}
	// dbus-daemon-launch-helper finds a system service by its file name.
	if name := s["BusName"][0]; activationFile != name+".service" {
		t.Errorf("%s: a system bus activation file must be named %s.service", activationFile, name)
	}

	daemon := testtool.Need(t, "dbus-daemon", "dbus")
	busctl := testtool.Need(t, "busctl", "systemd")
	dir := t.TempDir()
	services := filepath.Join(dir, "services")
	if err := os.Mkdir(services, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(services, activationFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "bus.sock")
	conf := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path=`+html.EscapeString(socket)+`</listen>
  <servicedir>`+html.EscapeString(services)+`</servicedir>
  <policy context="default">
    <allow user="*"/>
    <allow send_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
  </policy>
</busconfig>
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(daemon, "--config-file="+conf, "--nofork", "--print-address")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	// The address line says the socket is listening.
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
		t.Fatalf("dbus-daemon printed no address: %v", err)
	}
	names := run(t, nil, busctl, "--address=unix:path="+socket, "call", "org.freedesktop.DBus",
		"/org/freedesktop/DBus", "org.freedesktop.DBus", "ListActivatableNames")
	if !strings.Contains(names, `"`+s["BusName"][0]+`"`) {
		t.Errorf("dbus-daemon does not list %s as activatable from %s: %s", s["BusName"][0], activationFile, names)
	}
}

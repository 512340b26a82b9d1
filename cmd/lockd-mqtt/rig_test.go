package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/internal/dbustest"
	"lockd.dev/lockd/mqtt/mqtttest"
)

// The end-to-end tests run the real programs: a private system-like
// dbus-daemon with the shipped policy (internal/dbustest), `lockd --sim`
// on it, Debian's mosquitto with TLS, users and ACLs (mqtt/mqtttest),
// lockd-mqtt as an unprivileged user handed its credentials the way
// systemd's LoadCredential= does, and mosquitto_sub/mosquitto_pub as
// Home Assistant and as an intruder.

const (
	node     = "front_door"
	lockUser = "lockd-mqtt"
	lockPW   = "lock-pw-93ks"
	haUser   = "homeassistant"
	haPW     = "ha-pw-8dj2"
	nosyUser = "nosy"
	nosyPW   = "nosy-pw-11x"
	thePIN   = "480613"
)

var users = map[string]string{lockUser: lockPW, haUser: haPW, nosyUser: nosyPW}

// acl is the broker ACL the README recommends: lockd-mqtt writes its
// topics and discovery and reads only its command topic; Home Assistant
// reads everything and writes the command topic; nosy (valid broker
// credentials, another device of the house) reads states only.
const acl = `user lockd-mqtt
topic write lockd/#
topic write homeassistant/#
topic read lockd/+/lock/set

user homeassistant
topic readwrite homeassistant/#
topic read lockd/#
topic write lockd/+/lock/set

user nosy
topic read homeassistant/#
topic read lockd/+/lock
`

// topic is one of this lock's state topics.
func topic(s string) string { return "lockd/" + node + "/" + s }

var binaries = struct {
	once sync.Once
	dir  string
	err  error
}{}

func TestMain(m *testing.M) {
	code := m.Run()
	if binaries.dir != "" {
		os.RemoveAll(binaries.dir)
	}
	os.Exit(code)
}

// buildBinaries builds lockd and lockd-mqtt once, where nobody may run them.
func buildBinaries(t *testing.T) string {
	t.Helper()
	binaries.once.Do(func() {
		dir, err := os.MkdirTemp("", "lockd-mqtt-e2e-")
		if err == nil {
			err = os.Chmod(dir, 0o755)
		}
		if err != nil {
			binaries.err = err
			return
		}
		binaries.dir = dir
		out, err := exec.Command("go", "build", "-o", dir+"/", "lockd.dev/lockd/cmd/lockd", "lockd.dev/lockd/cmd/lockd-mqtt").CombinedOutput()
		if err != nil {
			binaries.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binaries.err != nil {
		t.Fatal(binaries.err)
	}
	return binaries.dir
}

// rig is a bus with lockd, a broker, and a place for lockd-mqtt's files.
type rig struct {
	t      *testing.T
	bin    string
	bus    *dbustest.Bus
	groups dbustest.Groups
	broker *mqtttest.Broker
	lockd  *proc
	state  string
	dir    string // config, credentials, CA: readable by nobody
}

func newRig(t *testing.T) *rig {
	t.Helper()
	dbustest.RequireRoot(t)
	dbustest.Need(t, "dbus-daemon")
	dbustest.Need(t, "setpriv")
	r := &rig{t: t, bin: buildBinaries(t), groups: dbustest.EnsureGroups(t), state: t.TempDir(), dir: t.TempDir()}
	for _, d := range []string{r.dir, filepath.Dir(r.dir)} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	r.bus = dbustest.Start(t, dbustest.Options{})
	r.broker = mqtttest.Start(t, mqtttest.Options{Users: users, ACL: acl})
	r.startLockd()
	return r
}

// startLockd starts lockd --sim and waits until it owns its name.
func (r *rig) startLockd() {
	r.t.Helper()
	owner := r.bus.Signals(r.t, dbus.WithMatchSender("org.freedesktop.DBus"), dbus.WithMatchMember("NameOwnerChanged"),
		dbus.WithMatchArg(0, wire.BusName))
	r.lockd = start(r.t, nil, nil, filepath.Join(r.bin, "lockd"), "--sim", "--bus", r.bus.Address, "--state-dir", r.state)
	for {
		select {
		case s := <-owner:
			if s.Body[2].(string) != "" {
				return
			}
		case <-r.lockd.done:
			r.t.Fatalf("lockd exited at start:\n%s", r.lockd.output())
		case <-time.After(30 * time.Second):
			r.t.Fatalf("lockd did not take its name within 30 s:\n%s", r.lockd.output())
		}
	}
}

// lockdState reads lockd's State over D-Bus as root.
func (r *rig) lockdState() string {
	r.t.Helper()
	v, err := r.bus.Conn(r.t).Object(wire.BusName, wire.ObjectPath).GetProperty(wire.Lock1 + "." + wire.PropState)
	if err != nil {
		r.t.Fatal(err)
	}
	return v.Value().(string)
}

// sim calls io.lockd.Simulator1 as root.
func (r *rig) sim(method string, args ...any) {
	r.t.Helper()
	if err := r.bus.Conn(r.t).Object(wire.BusName, wire.ObjectPath).Call(wire.Simulator1+"."+method, 0, args...).Err; err != nil {
		r.t.Fatalf("%s: %v", method, err)
	}
}

// config writes mqtt.toml and the credentials (root's, 0600, and a copy
// for the service as systemd's LoadCredential= makes it) and returns the
// config's path and the credentials directory.
func (r *rig) config(extra string, credsMode os.FileMode, pinDigest string) (string, string) {
	r.t.Helper()
	creds := filepath.Join(r.dir, "mqtt-credentials")
	body := fmt.Sprintf("username = %q\npassword = %q\n", lockUser, lockPW)
	if pinDigest != "" {
		body += fmt.Sprintf("pin_digest = %q\n", pinDigest)
	}
	if err := os.WriteFile(creds, []byte(body), 0o600); err != nil {
		r.t.Fatal(err)
	}
	if err := os.Chmod(creds, credsMode); err != nil {
		r.t.Fatal(err)
	}
	credDir := filepath.Join(r.dir, "credentials")
	if err := os.MkdirAll(credDir, 0o500); err != nil {
		r.t.Fatal(err)
	}
	copyPath := filepath.Join(credDir, "mqtt-credentials")
	_ = os.Remove(copyPath)
	if err := os.WriteFile(copyPath, []byte(body), 0o400); err != nil {
		r.t.Fatal(err)
	}
	for _, p := range []string{copyPath, credDir} {
		if err := os.Chown(p, dbustest.Nobody, dbustest.Nobody); err != nil {
			r.t.Fatal(err)
		}
	}
	if err := os.Chmod(r.broker.CAFile, 0o644); err != nil {
		r.t.Fatal(err)
	}
	conf := fmt.Sprintf(`[lockd]
bus = %q
[mqtt]
broker = %q
ca_file = %q
credentials_file = %q
[homeassistant]
node_id = %q
name = "Front door"
%s`, r.bus.Address, r.broker.URL(), r.broker.CAFile, creds, node, extra)
	path := filepath.Join(r.dir, "mqtt.toml")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		r.t.Fatal(err)
	}
	return path, credDir
}

// mqttd starts lockd-mqtt as nobody with groups, as its unit runs it.
func (r *rig) mqttd(conf, credDir string, groups ...int) *proc {
	r.t.Helper()
	var gs []string
	for _, g := range groups {
		gs = append(gs, strconv.Itoa(g))
	}
	id := strconv.Itoa(dbustest.Nobody)
	return start(r.t, []string{"CREDENTIALS_DIRECTORY=" + credDir}, nil, "setpriv", "--reuid="+id, "--regid="+id,
		"--groups="+strings.Join(gs, ","), "--", filepath.Join(r.bin, "lockd-mqtt"), "--config", conf)
}

// proc is a program whose output lines are collected as they come.
type proc struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	seen  int // waitLine looks after the line it last returned
	more  chan struct{}
	done  chan struct{}
}

func start(t *testing.T, env []string, stdin *os.File, name string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(name, args...), more: make(chan struct{}, 1), done: make(chan struct{})}
	p.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C.UTF-8"}, env...)
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = p.cmd.Stdout
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
			select {
			case p.more <- struct{}{}:
			default:
			}
		}
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s:\n%s", name, p.output())
		}
	})
	return p
}

// stop sends SIGTERM and waits (SIGKILL after 10 s).
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// waitLine waits for an output line holding every one of subs, after
// the line the last waitLine returned: lines are awaited in order.
func (p *proc) waitLine(t *testing.T, subs ...string) string {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		if l, ok := p.nextLine(subs); ok {
			return l
		}
		select {
		case <-p.more:
		case <-p.done:
			if l, ok := p.nextLine(subs); ok {
				return l
			}
			t.Fatalf("%s ended without logging %q:\n%s", p.cmd.Path, subs, p.output())
		case <-deadline:
			t.Fatalf("%s logged no line with %q within 20 s:\n%s", p.cmd.Path, subs, p.output())
		}
	}
}

// nextLine finds the next line holding subs and moves past it.
func (p *proc) nextLine(subs []string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := p.seen; i < len(p.lines); i++ {
		if hasAll(p.lines[i], subs) {
			p.seen = i + 1
			return p.lines[i], true
		}
	}
	return "", false
}

func hasAll(l string, subs []string) bool {
	for _, s := range subs {
		if !strings.Contains(l, s) {
			return false
		}
	}
	return true
}

// grep returns the first line holding every one of subs, or "".
func (p *proc) grep(subs ...string) string {
	for _, l := range strings.Split(p.output(), "\n") {
		if hasAll(l, subs) {
			return l
		}
	}
	return ""
}

// exit waits for the program to end and returns its exit status.
func (p *proc) exit(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not exit:\n%s", p.cmd.Path, p.output())
	}
	return p.cmd.ProcessState.ExitCode()
}

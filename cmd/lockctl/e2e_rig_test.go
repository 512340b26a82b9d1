package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/internal/dbustest"
)

// The end-to-end tests run the real binaries: a private system-like
// dbus-daemon with the shipped policy (internal/dbustest), `lockd --sim
// --bus ADDR` on it, and `lockctl` as root and as unprivileged users.

// binaries builds lockd and lockctl once per test run into a directory
// unprivileged users can execute from.
var binaries = struct {
	once sync.Once
	dir  string
	err  error
}{}

func TestMain(m *testing.M) {
	dbustest.RunHelpers(map[string]dbustest.HelperFunc{"spoof": spoof})
	code := m.Run()
	if binaries.dir != "" {
		os.RemoveAll(binaries.dir)
	}
	os.Exit(code)
}

func buildBinaries(t *testing.T) string {
	t.Helper()
	binaries.once.Do(func() {
		dir, err := os.MkdirTemp("", "lockctl-e2e-")
		if err == nil {
			err = os.Chmod(dir, 0o755)
		}
		if err != nil {
			binaries.err = err
			return
		}
		binaries.dir = dir
		cmd := exec.Command("go", "build", "-o", dir+"/", "lockd.dev/lockd/cmd/lockd", "lockd.dev/lockd/cmd/lockctl")
		if out, err := cmd.CombinedOutput(); err != nil {
			binaries.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binaries.err != nil {
		t.Fatal(binaries.err)
	}
	return binaries.dir
}

// who runs a lockctl command.
type who struct {
	name   string
	root   bool
	groups []int
}

var asRoot = who{name: "root", root: true}

func asNobody(name string, groups ...int) who { return who{name: name, groups: groups} }

// rig is one bus with one lockd on it.
type rig struct {
	t      *testing.T
	bus    *dbustest.Bus
	groups dbustest.Groups
	bin    string
	state  string
	lockd  *exec.Cmd
	logs   *syncBuffer
	exited chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveTimeout bounds lockd's start: opening the store and taking the name.
const serveTimeout = 20 * time.Second

// newRig starts a bus and `lockd --sim` on it and waits until lockd owns
// io.lockd.Lock1. It skips without root or dbus-daemon (fails under CI).
func newRig(t *testing.T) *rig {
	t.Helper()
	dbustest.RequireRoot(t)
	dbustest.Need(t, "dbus-daemon")
	dbustest.Need(t, "setpriv")
	r := &rig{t: t, groups: dbustest.EnsureGroups(t), bin: buildBinaries(t), state: t.TempDir(),
		logs: &syncBuffer{}, exited: make(chan error, 1)}
	r.bus = dbustest.Start(t, dbustest.Options{})
	owner := r.bus.Signals(t, dbus.WithMatchSender("org.freedesktop.DBus"), dbus.WithMatchMember("NameOwnerChanged"),
		dbus.WithMatchArg(0, wire.BusName))

	r.lockd = exec.Command(filepath.Join(r.bin, "lockd"), "--sim", "--bus", r.bus.Address, "--state-dir", r.state)
	r.lockd.Stdout, r.lockd.Stderr = r.logs, r.logs // not a terminal: headless
	if err := r.lockd.Start(); err != nil {
		t.Fatalf("start lockd: %v", err)
	}
	go func() { r.exited <- r.lockd.Wait() }()
	t.Cleanup(r.stop)
	select {
	case <-owner:
	case err := <-r.exited:
		r.exited <- err
		t.Fatalf("lockd exited before taking %s: %v\n%s", wire.BusName, err, r.logs)
	case <-time.After(serveTimeout):
		t.Fatalf("lockd did not take %s on the bus within %v (does cmd/lockd serve D-Bus with --bus?); its log:\n%s",
			wire.BusName, serveTimeout, r.logs)
	}
	return r
}

func (r *rig) stop() {
	select {
	case err := <-r.exited:
		r.t.Errorf("lockd exited during the test: %v\n%s", err, r.logs)
		return
	default:
	}
	_ = r.lockd.Process.Signal(os.Interrupt)
	select {
	case err := <-r.exited:
		if err != nil {
			r.t.Errorf("lockd on SIGINT: %v", err)
		}
	case <-time.After(10 * time.Second):
		_ = r.lockd.Process.Kill()
		<-r.exited
		r.t.Errorf("lockd did not stop on SIGINT; killed")
	}
	if r.t.Failed() {
		r.t.Logf("lockd log:\n%s", r.logs)
	}
}

// admin is an unprivileged user in lockd-admin; reader one in lockd;
// nobody has no groups at all.
func (r *rig) admin() who  { return asNobody("lockd-admin", r.groups.Admin) }
func (r *rig) reader() who { return asNobody("lockd", r.groups.Lockd) }

var nobody = asNobody("nobody")

// result is what one lockctl run did.
type result struct {
	args           []string
	code           int
	stdout, stderr string
}

func (res result) String() string {
	return fmt.Sprintf("lockctl %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(res.args, " "), res.code, res.stdout, res.stderr)
}

// command returns the lockctl command line for u, on the rig's bus.
func (r *rig) command(ctx context.Context, u who, args ...string) *exec.Cmd {
	argv := append([]string{filepath.Join(r.bin, "lockctl"), "--bus", r.bus.Address}, args...)
	if !u.root {
		groups := "--clear-groups"
		if len(u.groups) > 0 {
			var s []string
			for _, g := range u.groups {
				s = append(s, strconv.Itoa(g))
			}
			groups = "--groups=" + strings.Join(s, ",")
		}
		id := strconv.Itoa(dbustest.Nobody)
		argv = append([]string{"setpriv", "--reuid=" + id, "--regid=" + id, groups, "--"}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C.UTF-8", "HOME=/nonexistent", "TZ=UTC"}
	return cmd
}

// run runs lockctl as u with stdin and returns what it did.
func (r *rig) run(u who, stdin string, args ...string) result {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := r.command(ctx, u, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := result{args: args, stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ctx.Err() == nil:
		res.code = ee.ExitCode()
	default:
		r.t.Fatalf("lockctl %v as %s: %v\n%s", args, u.name, err, errb.String())
	}
	return res
}

// want runs lockctl as root and fails the test unless it exits with code.
func (r *rig) want(code int, stdin string, args ...string) result {
	r.t.Helper()
	return r.wantAs(asRoot, code, stdin, args...)
}

func (r *rig) wantAs(u who, code int, stdin string, args ...string) result {
	r.t.Helper()
	res := r.run(u, stdin, args...)
	if res.code != code {
		r.t.Fatalf("as %s, want exit %d:\n%s", u.name, code, res)
	}
	return res
}

// events subscribes, as root, to lockd's Event signals.
func (r *rig) events() <-chan *dbus.Signal {
	return r.bus.Signals(r.t, dbus.WithMatchSender(wire.BusName), dbus.WithMatchInterface(wire.Lock1),
		dbus.WithMatchMember(wire.Event))
}

// waitEvent waits for an Event of kind.
func (r *rig) waitEvent(ch <-chan *dbus.Signal, kind string) {
	r.t.Helper()
	deadline := time.After(15 * time.Second)
	var seen []string
	for {
		select {
		case s := <-ch:
			if len(s.Body) > 0 {
				k, _ := s.Body[0].(string)
				if k == kind {
					return
				}
				seen = append(seen, k)
			}
		case <-deadline:
			r.t.Fatalf("no %q event within 15s; saw %v", kind, seen)
		}
	}
}

// setup provisions the unit with adminCode through lockctl.
func (r *rig) setup() {
	r.t.Helper()
	r.want(0, adminCode+"\n"+adminCode+"\n", "setup")
}

// Codes the tests use: valid under codes.CheckRule (no runs, repeats or
// common PINs; admin at least 6 digits) and no prefix of one another.
const (
	adminCode = "480613"
	userCode  = "7295"
)

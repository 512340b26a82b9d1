// Package dbustest runs a private system-bus-like dbus-daemon for tests:
// Debian's default-deny system policy plus the shipped lockd policy
// (systemd/io.lockd.Lock1.conf), on a socket in t.TempDir(). It also
// creates the groups that policy names and runs client commands (busctl,
// gdbus, dbus-send) as root or as an unprivileged user with chosen groups.
//
// Everything here needs root (to own io.lockd.Lock1 and to switch users)
// and the dbus, systemd and libglib2.0-bin tools. Without them a test
// skips with a message saying what is missing; under CI=true it fails.
package dbustest

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options changes the bus configuration.
type Options struct {
	// ExtraPolicy is busconfig content (policy elements) placed after the
	// shipped policy, so its rules win: for example a default-context
	// allow that simulates a policy file edited by mistake.
	ExtraPolicy string
}

// OpenPolicy, as Options.ExtraPolicy, lets everyone call lockd and
// receive its signals, as a policy file edited by mistake would: what
// lockd then refuses, it refuses by itself.
const OpenPolicy = `<policy context="default">
    <allow send_destination="io.lockd.Lock1"/>
    <allow receive_sender="io.lockd.Lock1"/>
  </policy>`

// Bus is a running dbus-daemon.
type Bus struct {
	// Address is the bus address, for --address (busctl, gdbus),
	// --bus (dbus-send) and dbus.Connect.
	Address string
	// Config is the path of the generated configuration file.
	Config string

	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr strings.Builder
}

// startTimeout bounds how long dbus-daemon may take to print its address.
const startTimeout = 10 * time.Second

// Start starts a bus and stops it when the test ends. Create the groups
// the policy names (EnsureGroups) first: dbus-daemon resolves group names
// when it reads its configuration.
func Start(t testing.TB, o Options) *Bus {
	t.Helper()
	RequireRoot(t)
	daemon := Need(t, "dbus-daemon")
	dir := t.TempDir()
	// Unprivileged clients must reach the socket, and t.TempDir's
	// directory and its parent (both made by testing) are 0700.
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatalf("dbustest: %v", err)
		}
	}
	b := &Bus{Config: filepath.Join(dir, "bus.conf")}
	conf := busConfig(filepath.Join(dir, "bus.sock"), PolicyFile(t), o.ExtraPolicy)
	if err := os.WriteFile(b.Config, []byte(conf), 0o644); err != nil {
		t.Fatalf("dbustest: %v", err)
	}
	b.start(t, daemon)
	t.Cleanup(func() { b.stop(t) })
	return b
}

// start runs dbus-daemon on b.Config and waits for its address.
func (b *Bus) start(t testing.TB, daemon string) {
	t.Helper()
	b.cmd = exec.Command(daemon, "--config-file="+b.Config, "--nofork", "--print-address")
	b.cmd.Stderr = writerFunc(b.logStderr)
	out, err := b.cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("dbustest: %v", err)
	}
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("dbustest: start dbus-daemon: %v", err)
	}
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		addr <- strings.TrimSpace(line)
	}()
	select {
	case b.Address = <-addr:
	case <-time.After(startTimeout):
	}
	if b.Address == "" {
		_ = b.cmd.Process.Kill()
		_ = b.cmd.Wait()
		conf, _ := os.ReadFile(b.Config)
		t.Fatalf("dbustest: dbus-daemon printed no address; stderr:\n%s\nconfig:\n%s", b.Stderr(), conf)
	}
}

// Restart stops dbus-daemon and starts a new one on the same socket and
// configuration, as `systemctl restart dbus` would: every connection is
// lost and unique names start again. Address changes (a new guid), its
// socket path does not.
func (b *Bus) Restart(t testing.TB) {
	t.Helper()
	b.stop(t)
	b.start(t, Need(t, "dbus-daemon"))
}

func (b *Bus) stop(t testing.TB) {
	_ = b.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- b.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = b.cmd.Process.Kill()
		<-done
		t.Errorf("dbustest: dbus-daemon did not stop on SIGINT; killed")
	}
	if t.Failed() {
		t.Logf("dbus-daemon stderr:\n%s", b.Stderr())
	}
}

// Stderr returns what dbus-daemon wrote so far (policy rejections, with
// the rule that matched, are logged there).
func (b *Bus) Stderr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stderr.String()
}

func (b *Bus) logStderr(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stderr.Len() < 1<<20 {
		b.stderr.Write(p)
	}
	return len(p), nil
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// Need returns the path of a command, or skips the test (fails under
// CI=true) when it is missing.
func Need(t testing.TB, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err == nil {
		return p
	}
	skipOrFail(t, "%s not found: install Debian's dbus, systemd and libglib2.0-bin (`sudo make deps`)", tool)
	return ""
}

// RequireRoot skips the test (fails under CI=true) unless it runs as
// root: owning io.lockd.Lock1, creating groups and switching users need it.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "the D-Bus tests need root (to own io.lockd.Lock1 under the shipped policy and to run clients as other users)")
	}
}

func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format+"; CI=true forbids skipping", args...)
	}
	t.Skipf(format, args...)
}

// PolicyFile returns the shipped policy, systemd/io.lockd.Lock1.conf.
func PolicyFile(t testing.TB) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatalf("dbustest: %v", err)
	}
	return filepath.Join(root, "systemd", "io.lockd.Lock1.conf")
}

// repoRoot walks up from the working directory (a package directory under
// go test) to the module's go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(b), "module lockd.dev/lockd\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("dbustest: no go.mod of lockd.dev/lockd above the working directory")
		}
		dir = parent
	}
}

// commandTimeout bounds every client command.
const commandTimeout = 30 * time.Second

func withTimeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), commandTimeout)
}

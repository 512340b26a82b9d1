// Package simbus runs the simulator's own D-Bus: a private dbus-daemon
// that `lockd --sim` starts beside itself, with its address in a file of
// the state directory, so that `lockctl --bus sim` in a second terminal
// reaches the simulator with no session bus, no system bus and no root.
// It owns that file's name and format; both ends use this package.
package simbus

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// AddressFile is the file in the state directory that holds the bus
// address while lockd --sim runs.
const AddressFile = "bus"

// DefaultDir is the state directory of `make run`, relative to the
// repository: where `lockctl --bus sim` looks.
const DefaultDir = ".lockd-sim"

const (
	socketName = "bus.sock"
	configName = "bus.conf"
	// maxSocketPath is below sockaddr_un's 108 bytes with room to spare;
	// a longer state directory gets a socket in the temporary directory.
	maxSocketPath = 100
	// startTimeout bounds how long dbus-daemon may take to say its address.
	startTimeout = 10 * time.Second
)

// ErrNoDaemon means dbus-daemon is not installed.
var ErrNoDaemon = errors.New("simbus: dbus-daemon not found: install Debian's dbus package to reach the simulator with lockctl")

// Bus is a running private bus.
type Bus struct {
	// Address is the D-Bus address to connect to.
	Address string

	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts dbus-daemon for the state directory dir and writes its
// address to dir/bus. Only the user who runs it may connect (dbus-daemon's
// EXTERNAL authentication); that user may own any name and call anything,
// as on a session bus. Close stops it.
func Start(ctx context.Context, dir string) (*Bus, error) {
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		return nil, ErrNoDaemon
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("simbus: %w", err)
	}
	conf := filepath.Join(abs, configName)
	if err := os.WriteFile(conf, []byte(config(listenAddress(abs))), 0o600); err != nil {
		return nil, fmt.Errorf("simbus: %w", err)
	}
	cmd := exec.Command(daemon, "--config-file="+conf, "--nofork", "--print-address")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	// The bus lives no longer than lockd, even when lockd is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("simbus: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("simbus: start dbus-daemon: %w", err)
	}
	b := &Bus{dir: abs, cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		addr <- strings.TrimSpace(line)
	}()
	go func() { _ = cmd.Wait(); close(b.done) }()
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case b.Address = <-addr:
	case <-ctx.Done():
	case <-timer.C:
	}
	if b.Address == "" {
		b.stop()
		return nil, fmt.Errorf("simbus: dbus-daemon gave no address: %s", strings.TrimSpace(stderr.String()))
	}
	if err := writeAddress(abs, b.Address); err != nil {
		b.stop()
		return nil, err
	}
	return b, nil
}

// Close removes the address file and stops the bus.
func (b *Bus) Close() error {
	err := os.Remove(filepath.Join(b.dir, AddressFile))
	b.stop()
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("simbus: %w", err)
	}
	return nil
}

func (b *Bus) stop() {
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	<-b.done
}

// listenAddress puts the socket beside the address file when its path
// fits in a socket address.
func listenAddress(dir string) string {
	if p := filepath.Join(dir, socketName); len(p) <= maxSocketPath {
		return "unix:path=" + p
	}
	return "unix:tmpdir=" + os.TempDir()
}

func config(listen string) string {
	return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<!-- The simulator's private bus (lockd package simbus): only its user connects. -->
<busconfig>
  <type>session</type>
  <listen>` + listen + `</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`
}

// writeAddress replaces dir/bus in one rename, so a reader never sees half
// an address.
func writeAddress(dir, addr string) error {
	tmp := filepath.Join(dir, AddressFile+".tmp")
	if err := os.WriteFile(tmp, []byte(addr+"\n"), 0o600); err != nil {
		return fmt.Errorf("simbus: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, AddressFile)); err != nil {
		return fmt.Errorf("simbus: %w", err)
	}
	return nil
}

// ErrNotRunning means no lockd --sim serves a bus for the directory.
var ErrNotRunning = errors.New("no simulator is running")

// Address returns the address of the bus of the lockd --sim whose state
// directory is dir. The error wraps ErrNotRunning when there is none.
func Address(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, AddressFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("simbus: %w: %s has no %s (start it with `make run`, or lockd --sim --state-dir %s)",
			ErrNotRunning, dir, AddressFile, dir)
	}
	if err != nil {
		return "", fmt.Errorf("simbus: %w", err)
	}
	addr := strings.TrimSpace(string(b))
	if addr == "" {
		return "", fmt.Errorf("simbus: %s is empty", filepath.Join(dir, AddressFile))
	}
	return addr, nil
}

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/internal/dbustest"
)

const (
	busName = "io.lockd.Lock1"
	objPath = dbus.ObjectPath("/io/lockd/Lock1")
)

// privateBus starts a system-like dbus-daemon with the shipped policy and
// returns its address and a stop function.
func privateBus(ctx context.Context) (string, func(), error) {
	dir, err := os.MkdirTemp("", "lockbench-bus")
	if err != nil {
		return "", nil, err
	}
	os.Chmod(dir, 0o755) // the unprivileged clients connect too
	policy, err := filepath.Abs("systemd/io.lockd.Lock1.conf")
	if err != nil {
		return "", nil, err
	}
	socket := filepath.Join(dir, "bus")
	conf := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(conf, []byte(dbustest.BusConfig(socket, policy)), 0o644); err != nil {
		return "", nil, err
	}
	cmd := exec.CommandContext(ctx, "dbus-daemon", "--config-file="+conf, "--nofork", "--print-address")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("dbus-daemon: %w", err)
	}
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		return "", nil, fmt.Errorf("dbus-daemon address: %w", err)
	}
	go io.Copy(io.Discard, out)
	return strings.TrimSpace(addr), func() { cmd.Process.Kill(); cmd.Wait(); os.RemoveAll(dir) }, nil
}

// dbusBench runs lockd on a private bus and measures the load and the
// round-trip latencies of issue 4.
func dbusBench(ctx context.Context, bin string) error {
	addr, _, stop, err := lockdOnPrivateBus(ctx, bin)
	if err != nil {
		return err
	}
	defer stop()
	if err := latency(addr); err != nil {
		return err
	}
	return load(ctx, addr)
}

// lockdOnPrivateBus starts a private bus and lockd --sim on it, with a
// fresh state directory; it returns the bus address, lockd's process and
// a function that stops both and removes the directory.
func lockdOnPrivateBus(ctx context.Context, bin string) (string, *exec.Cmd, func(), error) {
	addr, stopBus, err := privateBus(ctx)
	if err != nil {
		return "", nil, nil, err
	}
	dir, err := os.MkdirTemp("", "lockbench-dbus")
	if err != nil {
		stopBus()
		return "", nil, nil, err
	}
	lockd, _, err := startLockd(ctx, bin, dir, "--bus", addr)
	if err != nil {
		os.RemoveAll(dir)
		stopBus()
		return "", nil, nil, err
	}
	return addr, lockd, func() { stopLockd(lockd); os.RemoveAll(dir); stopBus() }, nil
}

func connect(addr string) (*dbus.Conn, error) {
	c, err := dbus.Connect(addr)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", addr, err)
	}
	return c, nil
}

// latency measures sequential round trips: the bus's own GetId (the
// floor), a Lock1 property read, and Lock() on a locked bolt.
func latency(addr string) error {
	c, err := connect(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	obj := c.Object(busName, objPath)
	bus := c.BusObject()
	measure := func(n int, f func() error) ([]time.Duration, error) {
		d := make([]time.Duration, 0, n)
		for i := 0; i < n; i++ {
			t0 := time.Now()
			if err := f(); err != nil {
				return nil, err
			}
			d = append(d, time.Since(t0))
		}
		slices.Sort(d)
		return d, nil
	}
	// Interleave the three so that machine noise hits them alike.
	var floor, prop, lock []time.Duration
	for round := 0; round < 5; round++ {
		f, err := measure(1000, func() error {
			var id string
			return bus.Call("org.freedesktop.DBus.GetId", 0).Store(&id)
		})
		if err != nil {
			return fmt.Errorf("dbus bench: GetId: %w", err)
		}
		p, err := measure(1000, func() error {
			_, err := obj.GetProperty("io.lockd.Lock1.State")
			return err
		})
		if err != nil {
			return fmt.Errorf("dbus bench: State: %w", err)
		}
		l, err := measure(200, func() error { return obj.Call("io.lockd.Lock1.Lock", 0).Err })
		if err != nil {
			return fmt.Errorf("dbus bench: Lock: %w", err)
		}
		floor, prop, lock = append(floor, f...), append(prop, p...), append(lock, l...)
	}
	for _, d := range [][]time.Duration{floor, prop, lock} {
		slices.Sort(d)
	}
	us := func(d time.Duration) string { return fmt.Sprintf("%.0fµs", float64(d)/1e3) }
	fmt.Printf("D-Bus round trip (sequential, one client): GetId floor p50 %s p99 %s; State read p50 %s p99 %s (p99 %.2fx floor); Lock() p50 %s p99 %s\n",
		us(percentile(floor, 50)), us(percentile(floor, 99)), us(percentile(prop, 50)), us(percentile(prop, 99)),
		float64(percentile(prop, 99))/float64(percentile(floor, 99)), us(percentile(lock, 50)), us(percentile(lock, 99)))
	return nil
}

// load runs 45 root clients with mixed calls and 5 unprivileged client
// processes whose mutating calls must all be denied: 50 clients, 20,000
// calls.
func load(ctx context.Context, addr string) error {
	const clients, perClient, denyClients = 50, 400, 5
	self, cleanup, err := exportSelf()
	if err != nil {
		return err
	}
	defer cleanup()
	start := time.Now()
	var wg sync.WaitGroup
	var calls, denied, failures atomic.Int64
	errs := make(chan error, clients)
	for i := 0; i < clients-denyClients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			n, err := mixedClient(addr, i, perClient)
			calls.Add(int64(n))
			if err != nil {
				failures.Add(1)
				errs <- err
			}
		}(i)
	}
	for i := 0; i < denyClients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := exec.CommandContext(ctx, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
				self, "-deny-client", addr, "-n", fmt.Sprint(perClient)).CombinedOutput()
			if err != nil {
				failures.Add(1)
				errs <- fmt.Errorf("unprivileged client: %v: %s", err, out)
				return
			}
			calls.Add(perClient)
			denied.Add(perClient)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		return errors.New("load: clients still running after 5 minutes (deadlock?)")
	}
	close(errs)
	for err := range errs {
		fmt.Fprintln(os.Stderr, "lockbench: load:", err)
	}
	elapsed := time.Since(start)
	state, err := settle(addr)
	if err != nil {
		return err
	}
	fmt.Printf("D-Bus load: %d clients, %d calls (%d denied as expected) in %v (%.0f calls/s), %d failed clients; final state %s\n",
		clients, calls.Load(), denied.Load(), elapsed.Round(time.Millisecond), float64(calls.Load())/elapsed.Seconds(), failures.Load(), state)
	if failures.Load() > 0 {
		return errors.New("load: unexpected errors")
	}
	return nil
}

// mixedClient makes n calls: property reads, GetAll, Codes1.List, Log, and
// Lock/Unlock.
func mixedClient(addr string, seed, n int) (int, error) {
	c, err := connect(addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	obj := c.Object(busName, objPath)
	for i := 0; i < n; i++ {
		var err error
		switch (i + seed) % 10 {
		case 0, 1, 2, 3:
			_, err = obj.GetProperty("io.lockd.Lock1.State")
		case 4, 5:
			var all map[string]dbus.Variant
			err = obj.Call("org.freedesktop.DBus.Properties.GetAll", 0, "io.lockd.Lock1").Store(&all)
		case 6, 7:
			err = obj.Call("io.lockd.Codes1.List", 0).Err
		case 8:
			err = obj.Call("io.lockd.Lock1.Lock", 0).Err
		case 9:
			err = obj.Call("io.lockd.Lock1.Unlock", 0).Err
		}
		if err != nil {
			return i, fmt.Errorf("client %d call %d: %w", seed, i, err)
		}
	}
	return n, nil
}

// denyClient is the unprivileged side: every mutating call must be
// refused with AccessDenied.
func denyClient(addr string, n int) error {
	c, err := connect(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	obj := c.Object(busName, objPath)
	methods := []string{"io.lockd.Lock1.Unlock", "io.lockd.Lock1.Lock", "io.lockd.Codes1.ResetLockout"}
	for i := 0; i < n; i++ {
		err := obj.Call(methods[i%len(methods)], 0).Err
		var de dbus.Error
		if !errors.As(err, &de) || de.Name != "org.freedesktop.DBus.Error.AccessDenied" {
			return fmt.Errorf("call %d (%s) as uid %d: got %v, want AccessDenied", i, methods[i%len(methods)], os.Getuid(), err)
		}
	}
	return nil
}

// settle locks and waits until the State property says locked: after the
// storm the lock must still obey and agree with itself.
func settle(addr string) (string, error) {
	c, err := connect(addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	obj := c.Object(busName, objPath)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if err := obj.Call("io.lockd.Lock1.Lock", 0).Err; err != nil {
			return "", fmt.Errorf("final Lock: %w", err)
		}
		v, err := obj.GetProperty("io.lockd.Lock1.State")
		if err != nil {
			return "", err
		}
		if s, _ := v.Value().(string); s == "locked" {
			return s, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return "", errors.New("state never settled to locked after the load")
}

// exportSelf copies this binary where an unprivileged user can run it.
func exportSelf() (string, func(), error) {
	exe, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "lockbench-self")
	if err != nil {
		return "", nil, err
	}
	os.Chmod(dir, 0o755)
	dst := filepath.Join(dir, "lockbench")
	b, err := os.ReadFile(exe)
	if err == nil {
		err = os.WriteFile(dst, b, 0o755)
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return dst, func() { os.RemoveAll(dir) }, nil
}

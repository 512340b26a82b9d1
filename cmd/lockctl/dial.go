package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/internal/simbus"
)

// defaultTimeout is how long lockctl waits for each answer, as busctl.
const defaultTimeout = 25 * time.Second

// bus is where --bus sends lockctl, said for a person.
type bus struct {
	addr  string // for wire.Dial: "system" or an address
	where string // "the system bus"
	start string // how to start lockd there
	check string // where to see whether lockd runs
	sim   bool   // the bus of `make run`, found through .lockd-sim/bus
}

// resolveBus turns --bus into an address: "system", "session" (only an
// existing session bus: godbus would otherwise run dbus-launch, an X11
// program), "sim" (the bus of `make run` in this directory) or a D-Bus
// address such as unix:path=/run/dbus/system_bus_socket. Anything else
// is a usage error.
func resolveBus(name string) (bus, error) {
	switch name {
	case "system":
		return bus{addr: "system", where: "the system bus", start: "systemctl start lockd (systemctl status lockd says why it stopped)", check: "systemctl status lockd"}, nil
	case "session":
		addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
		if addr == "" {
			if p := filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), "bus"); os.Getenv("XDG_RUNTIME_DIR") != "" && isSocket(p) {
				addr = "unix:path=" + p
			}
		}
		if addr == "" {
			return bus{}, errors.New("there is no session bus here (DBUS_SESSION_BUS_ADDRESS is not set): " +
				"start one with `dbus-run-session -- bash`, or use --bus sim against `make run`")
		}
		return bus{addr: addr, where: "the session bus", start: "run lockd --sim --bus session in this session", check: "ps -C lockd"}, nil
	case "sim":
		addr, err := simbus.Address(simbus.DefaultDir)
		if errors.Is(err, simbus.ErrNotRunning) {
			return bus{}, fmt.Errorf("the simulator is not running here: no %s (start it with `make run` in this directory)",
				filepath.Join(simbus.DefaultDir, simbus.AddressFile))
		}
		if err != nil {
			return bus{}, err
		}
		return bus{addr: addr, where: "the simulator's bus", start: "start it with `make run`", check: "the terminal of `make run`", sim: true}, nil
	}
	if !strings.Contains(name, ":") {
		return bus{}, usagef("", "--bus %q: want system, session, sim or a D-Bus address (unix:path=...)", name)
	}
	return bus{addr: name, where: "the bus at " + name, start: "run lockd --bus " + name, check: "ps -C lockd"}, nil
}

func isSocket(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode()&os.ModeSocket != 0
}

// dial connects to b within timeout: godbus's handshake has no deadline of
// its own, and a bus that accepts and then says nothing must not hang
// lockctl.
func dial(ctx context.Context, b bus, timeout time.Duration) (*dbus.Conn, error) {
	type result struct {
		conn *dbus.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		c, err := wire.Dial(b.addr)
		done <- result{c, err}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		if r.err != nil {
			if b.sim {
				return nil, fmt.Errorf("cannot reach lockd: the simulator is not running (%s names a bus that is gone; start it with `make run`)",
					filepath.Join(simbus.DefaultDir, simbus.AddressFile))
			}
			return nil, fmt.Errorf("cannot reach lockd: %s", strings.TrimPrefix(r.err.Error(), "dbusapi: "))
		}
		return r.conn, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-timer.C:
		return nil, fmt.Errorf("cannot reach lockd: %s did not answer within %s", b.where, seconds(timeout))
	}
}

// seconds says a timeout the way people set it: "25 s", "1.5 s".
func seconds(d time.Duration) string {
	return strings.TrimSuffix(fmt.Sprintf("%g", d.Seconds()), ".0") + " s"
}

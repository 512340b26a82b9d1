package main

import (
	"fmt"
	"strings"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
)

// dial connects to the bus named by --bus: "system", "session" or a D-Bus
// address such as unix:path=/run/dbus/system_bus_socket. Anything else is
// a usage error, caught before wire.Dial would report it as a failure.
func dial(bus string) (*dbus.Conn, error) {
	if bus != "system" && bus != "session" && !strings.Contains(bus, ":") {
		return nil, usagef("", "--bus %q: want system, session or a D-Bus address (unix:path=...)", bus)
	}
	conn, err := wire.Dial(bus)
	if err != nil {
		return nil, fmt.Errorf("cannot reach lockd: %w", err)
	}
	return conn, nil
}

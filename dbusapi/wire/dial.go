package wire

import (
	"fmt"

	"github.com/godbus/dbus/v5"
)

// Dial connects to bus: "system" (DBUS_SYSTEM_BUS_ADDRESS or the standard
// socket), "session" (DBUS_SESSION_BUS_ADDRESS), or a D-Bus address such
// as "unix:path=/run/lockd-test/bus". The connection is private: close it
// when done.
func Dial(bus string) (*dbus.Conn, error) {
	var (
		c   *dbus.Conn
		err error
	)
	switch bus {
	case "system":
		c, err = dbus.ConnectSystemBus()
	case "session":
		c, err = dbus.ConnectSessionBus()
	case "":
		return nil, fmt.Errorf("dbusapi: no bus given: want system, session or a D-Bus address")
	default:
		c, err = dbus.Connect(bus)
	}
	if err != nil {
		return nil, fmt.Errorf("dbusapi: connect to %s bus: %w", bus, err)
	}
	return c, nil
}

package dbusapi

import (
	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
)

// Dial connects to "system", "session" or a D-Bus address (lockd --bus).
// It is wire.Dial; clients that must not link the code store use that.
func Dial(bus string) (*dbus.Conn, error) { return wire.Dial(bus) }

package dbusapi

import (
	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
)

// props1 is org.freedesktop.DBus.Properties on lockd's object. It serves
// the snapshot syncProps keeps, after checking the caller as every
// method does: godbus's prop package cannot, as its handlers never see
// the sender. Every property is read-only and shows the lock's state,
// which readers (group lockd) may see; none shows codes.
type props1 struct{ s *Service }

// Errors as godbus's prop package names them, which clients know.
const (
	errPropIface    = "org.freedesktop.DBus.Properties.Error.InterfaceNotFound"
	errPropName     = "org.freedesktop.DBus.Properties.Error.PropertyNotFound"
	errPropReadOnly = "org.freedesktop.DBus.Properties.Error.PropertyReadOnly"
)

// Get returns one property.
func (p props1) Get(msg dbus.Message, iface, name string) (dbus.Variant, *dbus.Error) {
	vals, derr := p.read(msg, "Get", "ss")
	if derr != nil {
		return dbus.Variant{}, derr
	}
	props, ok := vals[iface]
	if !ok {
		return dbus.Variant{}, dbusError(errPropIface, "no interface %.255q on %s", iface, wire.ObjectPath)
	}
	v, ok := props[name]
	if !ok {
		return dbus.Variant{}, dbusError(errPropName, "no property %.255q on %s", name, iface)
	}
	return dbus.MakeVariant(v), nil
}

// GetAll returns every property of an interface.
func (p props1) GetAll(msg dbus.Message, iface string) (map[string]dbus.Variant, *dbus.Error) {
	vals, derr := p.read(msg, "GetAll", "s")
	if derr != nil {
		return nil, derr
	}
	props, ok := vals[iface]
	if !ok {
		return nil, dbusError(errPropIface, "no interface %.255q on %s", iface, wire.ObjectPath)
	}
	out := make(map[string]dbus.Variant, len(props))
	for k, v := range props {
		out[k] = dbus.MakeVariant(v)
	}
	return out, nil
}

// Set refuses: lockd's properties change only through its methods.
func (p props1) Set(msg dbus.Message, iface, name string, _ dbus.Variant) *dbus.Error {
	if _, derr := p.read(msg, "Set", "ssv"); derr != nil {
		return derr
	}
	return dbusError(errPropReadOnly, "%.255s.%.255s is read-only", iface, name)
}

// read checks the call's signature and caller and returns the snapshot.
func (p props1) read(msg dbus.Message, member, want string) (map[string]map[string]any, *dbus.Error) {
	var got string
	if v, ok := msg.Headers[dbus.FieldSignature]; ok {
		sig, _ := v.Value().(dbus.Signature)
		got = sig.String()
	}
	if got != want {
		return nil, invalidArgs("%s takes (%s), not (%s)", member, want, got)
	}
	sender, _ := msg.Headers[dbus.FieldSender].Value().(string)
	ctx, cancel := p.s.callContext()
	defer cancel()
	if _, derr := p.s.authorizeRead(ctx, dbus.Sender(sender), propertiesIface+"."+member, true); derr != nil {
		return nil, derr
	}
	vals := p.s.snapshot()
	if vals == nil {
		return nil, dbusError(wire.ErrUnavailable, "lockd is not serving (yet)")
	}
	return vals, nil
}

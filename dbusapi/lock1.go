package dbusapi

import (
	"context"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"

	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/lock"
)

// lock1 is io.lockd.Lock1's methods; its properties are served by prop
// (props.go) and its Event signal comes from Serve.
type lock1 struct{ s *Service }

// Lock locks the bolt. io.lockd.Error.DoorOpen means it will lock once the
// door closes.
func (l lock1) Lock(msg dbus.Message) *dbus.Error {
	return l.s.move(msg, wire.Lock1+".Lock", l.s.cfg.Lock.Lock)
}

// Unlock unlocks the bolt.
func (l lock1) Unlock(msg dbus.Message) *dbus.Error {
	return l.s.move(msg, wire.Lock1+".Unlock", l.s.cfg.Lock.Unlock)
}

func (s *Service) move(msg dbus.Message, method string, fn func(context.Context, string, int) error) *dbus.Error {
	ctx, cancel, uid, derr := s.beginChange(msg, method)
	if derr != nil {
		return derr
	}
	defer cancel()
	if err := fn(ctx, lock.SourceDBus, uid); err != nil {
		return lockError(err)
	}
	return nil
}

func lock1Spec() introspect.Interface {
	types := map[string]string{}
	for k, v := range propValues(lock.Status{}) {
		types[k] = dbus.SignatureOf(v).String()
	}
	props := make([]introspect.Property, 0, len(propNames))
	for _, name := range propNames {
		props = append(props, introspect.Property{Name: name, Type: types[name], Access: "read",
			Annotations: []introspect.Annotation{{Name: "org.freedesktop.DBus.Property.EmitsChangedSignal", Value: "true"}}})
	}
	return introspect.Interface{
		Name:    wire.Lock1,
		Methods: append([]introspect.Method{{Name: "Lock"}, {Name: "Unlock"}}, modeMethods()...),
		Signals: []introspect.Signal{{Name: wire.Event, Args: []introspect.Arg{
			{Name: "kind", Type: "s"}, {Name: "details", Type: "a{sv}"},
		}}},
		Properties: props,
	}
}

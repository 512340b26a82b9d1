package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
)

// lockd's names on the bus (DESIGN.md "D-Bus"; package wire is the one
// place they are spelled).
const (
	busName     = wire.BusName
	objectPath  = wire.ObjectPath
	ifaceLock   = wire.Lock1
	ifaceCodes  = wire.Codes1
	ifaceSim    = wire.Simulator1
	ifaceLog    = wire.Codes1  // Log(t after_id, u limit) -> a(ta{sv}): the audit log is the code store's
	ifaceUpdate = wire.Update1 // only when lockd has an updater
	ifaceProps  = "org.freedesktop.DBus.Properties"
)

// D-Bus error names lockctl explains, besides lockd's own in wire.
const (
	errServiceUnknown   = "org.freedesktop.DBus.Error.ServiceUnknown"
	errNameHasNoOwner   = "org.freedesktop.DBus.Error.NameHasNoOwner"
	errUnknownMethod    = "org.freedesktop.DBus.Error.UnknownMethod"
	errUnknownInterface = "org.freedesktop.DBus.Error.UnknownInterface"
	errUnknownProperty  = "org.freedesktop.DBus.Error.UnknownProperty"
	errPropIfaceMissing = "org.freedesktop.DBus.Properties.Error.InterfaceNotFound"
	errNoReply          = "org.freedesktop.DBus.Error.NoReply"
)

// client is lockctl's connection to lockd's object.
type client struct {
	conn    *dbus.Conn
	obj     dbus.BusObject
	bus     bus
	timeout time.Duration // for each call, as busctl --timeout
}

// connect dials the bus once per invocation.
func (a *app) connect(ctx context.Context) (*client, error) {
	if a.cl != nil {
		return a.cl, nil
	}
	b, err := resolveBus(a.bus)
	if err != nil {
		return nil, err
	}
	conn, err := dial(ctx, b, a.timeout)
	if err != nil {
		return nil, err
	}
	a.cl = &client{conn: conn, obj: conn.Object(busName, objectPath), bus: b, timeout: a.timeout}
	return a.cl, nil
}

func (c *client) close() { _ = c.conn.Close() }

// call calls iface.method on lockd and stores its reply in out.
// lockd must answer within c.timeout.
func (c *client) call(ctx context.Context, iface, method string, args []any, out ...any) error {
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	call := c.obj.CallWithContext(cctx, iface+"."+method, 0, args...)
	if call.Err != nil {
		if ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded) {
			return c.noAnswer()
		}
		return c.locate(explain(iface, method, call.Err))
	}
	if len(out) > 0 {
		if err := call.Store(out...); err != nil {
			return fmt.Errorf("%s.%s: unexpected reply: %w", iface, method, err)
		}
	}
	return nil
}

// noAnswer is a call lockd did not answer in time: lockd hangs, is
// stopped, or is not the program that owns the name.
func (c *client) noAnswer() error {
	return fmt.Errorf("lockd did not answer within %s on %s; is lockd running? (%s)", seconds(c.timeout), c.bus.where, c.bus.check)
}

// locate says on which bus lockd is missing or silent, and what to run.
func (c *client) locate(err error) error {
	var r *refusal
	if !errors.As(err, &r) {
		return err
	}
	switch r.name {
	case errServiceUnknown, errNameHasNoOwner:
		return fmt.Errorf("lockd is not running on %s (nobody owns %s): %s", c.bus.where, busName, c.bus.start)
	case errNoReply:
		return c.noAnswer()
	}
	return err
}

// props reads every property of iface.
func (c *client) props(ctx context.Context, iface string) (map[string]dbus.Variant, error) {
	var m map[string]dbus.Variant
	if err := c.call(ctx, ifaceProps, "GetAll", []any{iface}, &m); err != nil {
		return nil, retarget(err, iface)
	}
	return m, nil
}

// prop reads one property of iface.
func (c *client) prop(ctx context.Context, iface, name string) (dbus.Variant, error) {
	var v dbus.Variant
	if err := c.call(ctx, ifaceProps, "Get", []any{iface, name}, &v); err != nil {
		return v, retarget(err, iface)
	}
	return v, nil
}

// retarget makes a Properties call's refusal name the interface read.
func retarget(err error, iface string) error {
	var r *refusal
	if errors.As(err, &r) && r.iface == ifaceProps {
		r.iface, r.method = iface, "properties"
	}
	return err
}

// refusal is an error reply from the bus or from lockd, explained.
type refusal struct {
	name          string // the D-Bus error name
	iface, method string
	msg           string // the error's own message
}

func (r *refusal) Error() string {
	what := r.iface + "." + r.method
	switch r.name {
	case wire.ErrAccessDenied:
		return "permission denied: " + r.denied()
	case wire.ErrInvalidArgs, wire.ErrDoorOpen, wire.ErrFull, wire.ErrUnavailable,
		wire.ErrBusy, wire.ErrNothingPending, wire.ErrBundleRefused:
		return forPerson(r.msg)
	case wire.ErrUnprovisioned:
		return forPerson(r.msg) + " (run 'lockctl setup' first)"
	case wire.ErrOperatingMode:
		return forPerson(r.msg) + " (see 'lockctl mode')"
	case wire.ErrNotLocked, wire.ErrNotActive:
		return forPerson(r.msg)
	case errServiceUnknown, errNameHasNoOwner:
		return "lockd is not running on this bus (" + busName + " has no owner)"
	case errNoReply:
		return what + ": lockd did not answer in time"
	}
	if r.msg == "" || r.msg == r.name {
		return fmt.Sprintf("%s: %s", what, r.name)
	}
	return fmt.Sprintf("%s: %s", what, r.msg)
}

// innerPrefixes are where in lockd an error arose ("codes: add: "): right
// for lockd's log, noise for the person who ran the command.
var innerPrefixes = []string{"codes: ", "add: ", "remove: ", "lock: ", "dbusapi: ", "updater: "}

// forPerson is lockd's reason without its internal prefixes.
func forPerson(msg string) string {
	for again := true; again; {
		again = false
		for _, p := range innerPrefixes {
			if rest, ok := strings.CutPrefix(msg, p); ok {
				msg, again = rest, true
			}
		}
	}
	return msg
}

// denied says what was refused and who may do it, after the shipped
// policy: group lockd may read properties, introspect and read the audit
// log; everything else needs root or lockd-admin.
func (r *refusal) denied() string {
	const readers, admins = "root or group lockd or lockd-admin", "root or group lockd-admin"
	switch {
	case r.iface == ifaceProps || r.method == "properties":
		return fmt.Sprintf("reading %s needs %s", r.iface, readers)
	case r.method == "Introspect":
		return "introspecting lockd needs " + readers
	case r.iface == ifaceLog && r.method == "Log":
		return "reading the audit log needs " + readers
	case r.iface == ifaceCodes && r.method == "List":
		return "listing codes needs " + admins
	}
	return fmt.Sprintf("%s.%s needs %s", r.iface, r.method, admins)
}

// missingInterface reports whether err says lockd does not implement the
// interface or method called (an older or non-sim lockd).
func missingInterface(err error) bool {
	var r *refusal
	if !errors.As(err, &r) {
		return false
	}
	switch r.name {
	case errUnknownMethod, errUnknownInterface, errPropIfaceMissing, errUnknownProperty:
		return true
	}
	return false
}

// explain turns an error reply into a refusal; other errors (the bus went
// away, a cancelled context) are returned as they are.
func explain(iface, method string, err error) error {
	var name string
	var body []any
	var ev dbus.Error
	var ep *dbus.Error
	switch {
	case errors.As(err, &ep):
		name, body = ep.Name, ep.Body
	case errors.As(err, &ev):
		name, body = ev.Name, ev.Body
	default:
		return fmt.Errorf("%s.%s: %w", iface, method, err)
	}
	r := &refusal{name: name, iface: iface, method: method}
	if len(body) > 0 {
		if s, ok := body[0].(string); ok {
			r.msg = strings.TrimSpace(s)
		}
	}
	return r
}

// hasInterface reports whether lockd's object implements iface, from its
// introspection data.
func (c *client) hasInterface(ctx context.Context, iface string) (bool, error) {
	var xml string
	if err := c.call(ctx, "org.freedesktop.DBus.Introspectable", "Introspect", nil, &xml); err != nil {
		return false, err
	}
	return strings.Contains(xml, `"`+iface+`"`), nil
}

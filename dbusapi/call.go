package dbusapi

import (
	"context"

	"github.com/godbus/dbus/v5"
)

// inSignatures maps "interface.Method" to the signature of its in-args,
// from the introspection specs.
func inSignatures() map[string]string {
	m := map[string]string{}
	for _, o := range interfaces(nil, true, true) {
		for _, meth := range o.spec.Methods {
			sig := ""
			for _, a := range meth.Args {
				if a.Direction == "in" {
					sig += a.Type
				}
			}
			m[o.spec.Name+"."+meth.Name] = sig
		}
	}
	return m
}

// begin checks a call's signature and returns its sender. godbus converts
// arguments leniently (a{ss} into a{sv}, u into t), so a caller could
// otherwise get a call through with types the interface does not declare;
// lockd takes exactly the declared types, as a C service would.
func (s *Service) begin(msg dbus.Message) (dbus.Sender, *dbus.Error) {
	iface, _ := msg.Headers[dbus.FieldInterface].Value().(string)
	member, _ := msg.Headers[dbus.FieldMember].Value().(string)
	sender, _ := msg.Headers[dbus.FieldSender].Value().(string)
	var got string
	if v, ok := msg.Headers[dbus.FieldSignature]; ok {
		sig, _ := v.Value().(dbus.Signature)
		got = sig.String()
	}
	want, ok := s.signatures[iface+"."+member]
	if !ok || got != want {
		return "", invalidArgs("%s takes (%s), not (%s)", member, want, got)
	}
	return dbus.Sender(sender), nil
}

// beginChange checks a change's signature and caller (authorize) and
// returns the call's context and the caller's uid.
func (s *Service) beginChange(msg dbus.Message, method string) (context.Context, context.CancelFunc, int, *dbus.Error) {
	sender, derr := s.begin(msg)
	if derr != nil {
		return nil, nil, 0, derr
	}
	ctx, cancel := s.callContext()
	uid, derr := s.authorize(ctx, sender, method)
	if derr != nil {
		cancel()
		return nil, nil, 0, derr
	}
	return ctx, cancel, uid, nil
}

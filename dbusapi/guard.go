package dbusapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/busguard"
	"lockd.dev/lockd/dbusapi/wire"
)

// connectTimeout bounds the SASL exchange and Hello, which godbus runs
// without a deadline: a bus that accepts and then says nothing must not
// hold lockd's reconnect loop.
const connectTimeout = 25 * time.Second

// systemBus is the standard system bus address (DBUS_SYSTEM_BUS_ADDRESS
// overrides it), both paths distributions use.
const systemBus = "unix:path=/run/dbus/system_bus_socket;unix:path=/var/run/dbus/system_bus_socket"

// busAddress resolves "system", "session" or an address.
func busAddress(bus string) (string, error) {
	switch bus {
	case "system":
		if a := os.Getenv("DBUS_SYSTEM_BUS_ADDRESS"); a != "" {
			return a, nil
		}
		return systemBus, nil
	case "session":
		if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" {
			return a, nil
		}
		return "", errors.New("dbusapi: no session bus: DBUS_SESSION_BUS_ADDRESS is not set")
	case "":
		return "", errors.New("dbusapi: no bus given: want system, session or a D-Bus address")
	}
	return bus, nil
}

// dial connects to Config.Bus through busguard: godbus sees only bounded
// messages and only the descriptors of calls listed in fdCalls.
func (s *Service) dial(ctx context.Context) (*dbus.Conn, *busguard.Guard, error) {
	addr, err := busAddress(s.cfg.Bus)
	if err != nil {
		return nil, nil, err
	}
	g, err := busguard.Dial(ctx, addr, busguard.Config{FDCalls: s.fdCalls(), Log: s.log})
	if err != nil {
		return nil, nil, fmt.Errorf("dbusapi: %w", err)
	}
	timer := time.AfterFunc(connectTimeout, func() { g.Close() }) // godbus's exchange then fails
	conn, err := dbus.ConnectUnix(g.Client())
	timer.Stop()
	if err != nil {
		g.Close()
		return nil, nil, fmt.Errorf("dbusapi: connect to %s bus: %w", s.cfg.Bus, err)
	}
	go answerRefusals(conn, g.Refusals(), s.log)
	return conn, g, nil
}

// fdCalls are the calls whose first argument is a descriptor lockd takes:
// Update1's installs, when lockd has an updater. Any other descriptor
// that comes with a message is closed before godbus sees it.
func (s *Service) fdCalls() []busguard.Call {
	if s.cfg.Updater == nil {
		return nil
	}
	var calls []busguard.Call
	for _, m := range update1Spec().Methods {
		sig := s.signatures[wire.Update1+"."+m.Name]
		if len(sig) > 0 && sig[0] == 'h' {
			calls = append(calls, busguard.Call{Path: string(wire.ObjectPath), Interface: wire.Update1, Member: m.Name, Signature: sig})
		}
	}
	return calls
}

// answerRefusals answers each call the relay refused unread with
// LimitsExceeded and the relay's reason, until the relay ends.
func answerRefusals(conn *dbus.Conn, refusals <-chan busguard.Refusal, log *slog.Logger) {
	for r := range refusals {
		msg := &dbus.Message{Type: dbus.TypeError, Headers: map[dbus.HeaderField]dbus.Variant{
			dbus.FieldReplySerial: dbus.MakeVariant(r.Serial),
			dbus.FieldDestination: dbus.MakeVariant(r.Sender),
			dbus.FieldErrorName:   dbus.MakeVariant(wire.ErrLimitsExceeded),
			dbus.FieldSignature:   dbus.MakeVariant(dbus.SignatureOf("")),
		}, Body: []any{fmt.Sprintf("%.255s: %s; nothing was done", r.Method, r.Reason)}}
		if call := conn.Send(msg, nil); call.Err != nil {
			log.Debug("dbusapi: answer a refused call", "sender", r.Sender, "err", call.Err)
		}
	}
}

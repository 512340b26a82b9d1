// Command e2e-guest is the e2e rig's helper inside the guest, which has
// no systemd:
//
//	e2e-guest logind   stands in for systemd-logind: owns
//	                   org.freedesktop.login1 and answers the calls
//	                   lockd's reboot seam makes (SetRebootParameter,
//	                   Reboot). Reboot prints E2E-REBOOT, syncs and
//	                   reboots at once (reboot -f), as logind would after
//	                   stopping the services.
//	e2e-guest board serve [--config FILE] [--bolt locked|unlocked]
//	                   makes the simulated GPIO chip (gpio-sim, the Pi's
//	                   line names) and plays the world around the lock on
//	                   it (world.go); e2e-guest board CMD sends it a
//	                   command (keys, column, door, jam, state, history,
//	                   bench: actions.go).
//	e2e-guest hold PIN requests PIN as another program would, and keeps it.
//	e2e-guest watch    prints "E2E-OP OPERATION PROGRESS" for every change
//	                   of io.lockd.Update1's Operation or Progress, as
//	                   lockd signals it (the rig cuts the power on these),
//	                   and "E2E-EVENT KIND" for each io.lockd.Lock1 Event
//	                   (also appended to /run/e2e-events).
//	                   It also keeps /run/e2e-lockd-up while lockd owns
//	                   its bus name, and lockd's last Operation in
//	                   /run/e2e-op, so the guest's scripts need not start
//	                   lockctl over and over while lockd works.
package main

import (
	"fmt"
	"os"
	"os/exec"

	"github.com/godbus/dbus/v5"
)

type manager struct{ param string }

// SetRebootParameter is logind's method of that name.
func (m *manager) SetRebootParameter(p string) *dbus.Error {
	m.param = p
	return nil
}

// Reboot is logind's method of that name.
func (m *manager) Reboot(interactive bool) *dbus.Error {
	fmt.Printf("E2E-REBOOT param=%q\n", m.param)
	go func() {
		exec.Command("sync").Run()
		exec.Command("reboot", "-f").Run()
	}()
	return nil
}

func logind(conn *dbus.Conn) error {
	if err := conn.Export(&manager{}, "/org/freedesktop/login1", "org.freedesktop.login1.Manager"); err != nil {
		return err
	}
	reply, err := conn.RequestName("org.freedesktop.login1", dbus.NameFlagDoNotQueue)
	if err != nil {
		return err
	}
	if reply != dbus.RequestNameReplyPrimaryOwner {
		return fmt.Errorf("cannot own org.freedesktop.login1 (reply %d)", reply)
	}
	select {}
}

func watchLockd(conn *dbus.Conn) error {
	if err := conn.AddMatchSignal(dbus.WithMatchInterface("org.freedesktop.DBus.Properties"),
		dbus.WithMatchMember("PropertiesChanged"), dbus.WithMatchArg(0, "io.lockd.Update1")); err != nil {
		return err
	}
	if err := conn.AddMatchSignal(dbus.WithMatchInterface("io.lockd.Lock1"), dbus.WithMatchMember("Event")); err != nil {
		return err
	}
	if err := conn.AddMatchSignal(dbus.WithMatchInterface("org.freedesktop.DBus"),
		dbus.WithMatchMember("NameOwnerChanged"), dbus.WithMatchArg(0, lockdName)); err != nil {
		return err
	}
	ch := make(chan *dbus.Signal, 256)
	conn.Signal(ch)
	op, pct := "", int32(-1)
	up := func(up bool) {
		if !up {
			os.Remove(upFile)
			return
		}
		// The file only: E2E-OP lines stay one per signalled change.
		v, err := conn.Object(lockdName, "/io/lockd/Lock1").GetProperty("io.lockd.Update1.Operation")
		if o, ok := v.Value().(string); err == nil && ok {
			os.WriteFile(opFile, []byte(o+"\n"), 0o644)
		}
		os.WriteFile(upFile, nil, 0o644)
	}
	var owner string
	if err := conn.BusObject().Call("org.freedesktop.DBus.GetNameOwner", 0, lockdName).Store(&owner); err == nil {
		up(true)
	}
	for s := range ch {
		if s.Name == "org.freedesktop.DBus.NameOwnerChanged" && len(s.Body) == 3 {
			newOwner, _ := s.Body[2].(string)
			up(newOwner != "")
			continue
		}
		if s.Name == "io.lockd.Lock1.Event" && len(s.Body) > 0 {
			fmt.Printf("E2E-EVENT %v\n", s.Body[0])
			if f, err := os.OpenFile(eventsFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
				fmt.Fprintln(f, s.Body[0])
				f.Close()
			}
			continue
		}
		if len(s.Body) < 2 {
			continue
		}
		changed, _ := s.Body[1].(map[string]dbus.Variant)
		o, p := op, pct
		if v, ok := changed["Operation"]; ok {
			o, _ = v.Value().(string)
		}
		if v, ok := changed["Progress"]; ok {
			p, _ = v.Value().(int32)
		}
		if o != op || p != pct {
			op, pct = o, p
			fmt.Printf("E2E-OP %s %d\n", op, pct)
			os.WriteFile(opFile, []byte(op+"\n"), 0o644)
		}
	}
	return nil
}

const (
	lockdName = "io.lockd.Lock1"
	upFile    = "/run/e2e-lockd-up"
	opFile    = "/run/e2e-op"
	// eventsFile has the kind of every Event, one a line, for the
	// guest's scripts to wait on.
	eventsFile = "/run/e2e-events"
)

func main() {
	var err error
	switch arg := append(os.Args, "")[1]; arg {
	case "logind", "watch":
		var conn *dbus.Conn
		if conn, err = dbus.ConnectSystemBus(); err != nil {
			break
		}
		if arg == "logind" {
			err = logind(conn)
		} else {
			err = watchLockd(conn)
		}
	case "board":
		if len(os.Args) > 2 && os.Args[2] == "serve" {
			err = serveBoard(os.Args[3:])
		} else {
			err = boardCommand(os.Args[2:])
		}
	case "hold":
		err = hold(append(os.Args, "")[2])
	default:
		err = fmt.Errorf("usage: e2e-guest logind|watch|board serve [--config FILE] [--bolt locked|unlocked]|board CMD...|hold PIN (not %q)", arg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e-guest:", err)
		os.Exit(1)
	}
}

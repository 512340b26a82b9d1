package main

import (
	"bufio"
	"context"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/internal/dbustest"
)

// spoof TARGET is a helper (dbustest.RunHelpers): from its own connection
// it tells TARGET, and everyone, that it now owns io.lockd.Lock1, sends
// Event signals that claim an unlock, then claims lockd left the bus.
// dbus-daemon sets the sender of each to the helper's unique name, which
// is all a client can do.
func spoof(address string, args []string) error {
	c, err := dbus.Connect(address)
	if err != nil {
		return err
	}
	defer c.Close()
	me := c.Names()[0]
	send := func(dest string, path dbus.ObjectPath, iface, member string, body ...any) error {
		m := &dbus.Message{Type: dbus.TypeSignal, Headers: map[dbus.HeaderField]dbus.Variant{
			dbus.FieldPath:      dbus.MakeVariant(path),
			dbus.FieldInterface: dbus.MakeVariant(iface),
			dbus.FieldMember:    dbus.MakeVariant(member),
			dbus.FieldSignature: dbus.MakeVariant(dbus.SignatureOf(body...)),
		}, Body: body}
		if dest != "" {
			m.Headers[dbus.FieldDestination] = dbus.MakeVariant(dest)
		}
		return c.Send(m, nil).Err
	}
	details := map[string]dbus.Variant{wire.KeyReason: dbus.MakeVariant("spoofed"), wire.KeySource: dbus.MakeVariant("dbus")}
	for _, dest := range []string{args[0], ""} {
		if err := errors.Join(
			send(dest, "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameOwnerChanged", wire.BusName, "", me),
			send(dest, wire.ObjectPath, wire.Lock1, wire.Event, "spoofed", details),
		); err != nil {
			return err
		}
	}
	if err := send(args[0], "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameOwnerChanged", wire.BusName, me, ""); err != nil {
		return err
	}
	// The bus handles a connection's messages in order: once it answers
	// this, it has routed every signal above.
	var id string
	return c.BusObject().Call("org.freedesktop.DBus.GetId", 0).Store(&id)
}

// uniqueName returns the unique name of the bus connection of process pid.
func uniqueName(t *testing.T, c *dbus.Conn, pid int) string {
	t.Helper()
	var names []string
	if err := c.BusObject().Call("org.freedesktop.DBus.ListNames", 0).Store(&names); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		var p uint32
		if strings.HasPrefix(n, ":") && c.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, n).Store(&p) == nil && int(p) == pid {
			return n
		}
	}
	t.Fatalf("no bus connection of pid %d", pid)
	return ""
}

// TestE2ESpoofedSignals: nobody sends lockctl log --follow (run by a
// member of group lockd) and everyone signals that claim lockd's name
// changed hands and that the door unlocked, and that lockd left. lockctl
// believes only signals from the connection the bus driver says owns
// io.lockd.Lock1, so it prints none of them and keeps following; a
// subscriber that matches on the sender io.lockd.Lock1 receives none.
func TestE2ESpoofedSignals(t *testing.T) {
	r := newRig(t)
	r.setup()
	watch := r.events()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	follow, lines, stderr := r.follow(ctx, r.reader())
	r.want(0, "", "unlock")
	r.waitLine(lines, stderr, "unlock")
	r.waitEvent(watch, "unlocked")
	target := uniqueName(t, r.bus.Conn(t), follow.Process.Pid)
	if res := r.bus.Helper(t, dbustest.Unprivileged(), "spoof", target); !res.OK() {
		t.Fatalf("spoof: %v\n%s", res.Err, res.Output())
	}
	r.want(0, "", "lock")
	if l := r.waitLine(lines, stderr, "lock"); strings.Contains(l, "spoofed") {
		t.Errorf("lockctl printed a spoofed event: %q", l)
	}
	for len(watch) > 0 {
		if s := <-watch; len(s.Body) == 2 && s.Body[0] == "spoofed" {
			t.Errorf("a subscriber to io.lockd.Lock1's signals got a spoofed one from %s", s.Sender)
		}
	}
	if err := follow.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := follow.Wait(); err != nil {
		t.Errorf("log --follow: %v (it should have run until SIGINT); stderr:\n%s", err, stderr.String())
	}
}

// follow starts lockctl log --follow as u and returns its output lines.
func (r *rig) follow(ctx context.Context, u who) (*exec.Cmd, <-chan string, *syncBuffer) {
	r.t.Helper()
	cmd := r.command(ctx, u, "log", "--follow")
	out, err := cmd.StdoutPipe()
	if err != nil {
		r.t.Fatal(err)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return cmd, lines, stderr
}

// waitLine returns the next line of lines that contains want, failing if
// lockctl ends or prints a spoofed line or nothing for 15 s.
func (r *rig) waitLine(lines <-chan string, stderr *syncBuffer, want string) string {
	r.t.Helper()
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				r.t.Fatalf("log --follow ended; stderr:\n%s", stderr.String())
			}
			if strings.Contains(l, "spoofed") || strings.Contains(l, want) {
				return l
			}
		case <-time.After(15 * time.Second):
			r.t.Fatalf("log --follow printed no %q line for 15s; stderr:\n%s", want, stderr.String())
			return ""
		}
	}
}

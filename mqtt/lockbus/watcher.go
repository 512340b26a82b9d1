package lockbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/internal/backoff"
)

const (
	busDriver      = "org.freedesktop.DBus"
	propsInterface = "org.freedesktop.DBus.Properties"
	// callTimeout bounds every call to lockd: a lockd that hangs is
	// reported, never waited for.
	callTimeout = 10 * time.Second
)

// ErrUnreachable: there is no connection to lockd's bus right now.
var ErrUnreachable = errors.New("lockbus: lockd is not reachable")

// Watcher follows lockd over one bus. Run keeps it connected; Lock and
// Unlock use the current connection.
type Watcher struct {
	bus string
	log *slog.Logger

	mu   sync.Mutex
	conn *dbus.Conn // nil while disconnected

	// Used by Run's goroutine only.
	owner      string            // lockd's unique name; "" while it is away
	labels     map[uint32]string // code id -> label, from Codes1.List
	listDenied bool              // Codes1.List is for lockd-admin: not asked again
}

// New returns a Watcher of lockd on bus (system, session or an address).
func New(bus string, log *slog.Logger) *Watcher {
	return &Watcher{bus: bus, log: log, labels: map[uint32]string{}}
}

// Run connects, sends lockd's state and events to out, and reconnects
// with backoff when the bus goes away, until ctx ends. It sends an
// Update with a nil Snapshot whenever lockd stops being reachable.
func (w *Watcher) Run(ctx context.Context, out chan<- Update) {
	b := backoff.New(backoff.Min, backoff.Max)
	for {
		err := w.session(ctx, out, b)
		w.setConn(nil)
		if ctx.Err() != nil {
			return
		}
		send(ctx, out, Update{Why: err.Error()})
		d := b.Next()
		w.log.Warn("lockbus: lost lockd's bus; reconnecting", "bus", w.bus, "err", err, "retry_in", d.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return
		case <-time.After(d):
		}
	}
}

// session is one connection to the bus, until it drops or ctx ends.
func (w *Watcher) session(ctx context.Context, out chan<- Update, b *backoff.Backoff) error {
	conn, err := wire.Dial(w.bus)
	if err != nil {
		return fmt.Errorf("lockbus: %w", err)
	}
	defer conn.Close()
	sigs := make(chan *dbus.Signal, 64)
	conn.Signal(sigs)
	for _, m := range [][]dbus.MatchOption{
		{dbus.WithMatchSender(busDriver), dbus.WithMatchMember("NameOwnerChanged"), dbus.WithMatchArg(0, wire.BusName)},
		{dbus.WithMatchSender(wire.BusName), dbus.WithMatchObjectPath(wire.ObjectPath),
			dbus.WithMatchInterface(propsInterface), dbus.WithMatchMember("PropertiesChanged")},
		{dbus.WithMatchSender(wire.BusName), dbus.WithMatchObjectPath(wire.ObjectPath),
			dbus.WithMatchInterface(wire.Lock1), dbus.WithMatchMember(wire.Event)},
	} {
		if err := conn.AddMatchSignalContext(ctx, m...); err != nil {
			return fmt.Errorf("lockbus: add match: %w", err)
		}
	}
	w.setConn(conn)
	b.Reset()
	w.owner = ""
	var owner string
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	err = conn.BusObject().CallWithContext(cctx, busDriver+".GetNameOwner", 0, wire.BusName).Store(&owner)
	cancel()
	if err == nil {
		w.ownerChanged(ctx, conn, out, owner)
	} else {
		w.ownerChanged(ctx, conn, out, "")
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case sig, ok := <-sigs:
			if !ok {
				return errors.New("lockbus: the connection to the bus closed")
			}
			w.signal(ctx, conn, out, sig)
		}
	}
}

// signal handles one signal. Only the bus driver says who owns lockd's
// name, and only that owner's PropertiesChanged and Event count: any
// client may send a signal that looks like lockd's.
func (w *Watcher) signal(ctx context.Context, conn *dbus.Conn, out chan<- Update, sig *dbus.Signal) {
	switch {
	case sig.Name == busDriver+".NameOwnerChanged":
		if sig.Sender != busDriver || len(sig.Body) != 3 {
			return
		}
		name, _ := sig.Body[0].(string)
		owner, _ := sig.Body[2].(string)
		if name == wire.BusName {
			w.ownerChanged(ctx, conn, out, owner)
		}
	case w.owner == "" || sig.Sender != w.owner:
		w.log.Debug("lockbus: ignored a signal not from lockd", "sender", sig.Sender, "name", sig.Name)
	case sig.Name == propsInterface+".PropertiesChanged":
		w.refresh(ctx, conn, out)
	case sig.Name == wire.Lock1+"."+wire.Event:
		e, ok := eventOf(sig.Body)
		if !ok {
			w.log.Warn("lockbus: ignored an Event signal of the wrong shape", "signature", sig.Body)
			return
		}
		w.label(ctx, conn, e)
		send(ctx, out, Update{Event: e})
	}
}

func (w *Watcher) ownerChanged(ctx context.Context, conn *dbus.Conn, out chan<- Update, owner string) {
	w.owner = owner
	if owner == "" {
		w.log.Warn("lockbus: lockd is not on the bus", "bus", w.bus)
		send(ctx, out, Update{Why: "lockd is not on the bus"})
		return
	}
	w.log.Info("lockbus: lockd is on the bus", "owner", owner)
	clear(w.labels)
	w.refresh(ctx, conn, out)
}

// refresh reads lockd's properties and sends them.
func (w *Watcher) refresh(ctx context.Context, conn *dbus.Conn, out chan<- Update) {
	s, err := w.read(ctx, conn)
	if err != nil {
		w.log.Warn("lockbus: cannot read lockd's state", "err", err)
		send(ctx, out, Update{Why: err.Error()})
		return
	}
	send(ctx, out, Update{Snapshot: s})
}

// read is one GetAll of Lock1 and, when lockd exports it, of Update1.
func (w *Watcher) read(ctx context.Context, conn *dbus.Conn) (*Snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	obj := conn.Object(wire.BusName, wire.ObjectPath)
	var p map[string]dbus.Variant
	if err := obj.CallWithContext(ctx, propsInterface+".GetAll", 0, wire.Lock1).Store(&p); err != nil {
		return nil, fmt.Errorf("lockbus: read %s: %w", wire.Lock1, err)
	}
	s := lock1Snapshot(p)
	var u map[string]dbus.Variant
	if err := obj.CallWithContext(ctx, propsInterface+".GetAll", 0, wire.Update1).Store(&u); err == nil {
		s.Update = update1Info(u)
	} else if name := errName(err); name == wire.ErrAccessDenied {
		w.log.Warn("lockbus: lockd refused to show io.lockd.Update1; no update entity", "err", err)
	}
	// Any other error means lockd exports no Update1 (no updater): the
	// update entity is left out.
	return s, nil
}

// label fills e.Label from Codes1.List when lockd did not send one. List
// is for lockd-admin; a refusal is remembered and events then carry the
// code id only.
func (w *Watcher) label(ctx context.Context, conn *dbus.Conn, e *Event) {
	if e.Label != "" || e.CodeID == 0 || w.listDenied {
		return
	}
	if l, ok := w.labels[e.CodeID]; ok && e.Kind != "code-added" && e.Kind != "code-removed" {
		e.Label = l
		return
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	var list []struct {
		ID      uint32
		Label   string
		Details map[string]dbus.Variant
	}
	err := conn.Object(wire.BusName, wire.ObjectPath).CallWithContext(ctx, wire.Codes1+".List", 0).Store(&list)
	if errName(err) == wire.ErrAccessDenied {
		w.listDenied = true
		w.log.Info("lockbus: lockd shows code labels to lockd-admin only; events name the code id")
		return
	}
	if err != nil {
		w.log.Warn("lockbus: cannot list codes for their labels", "err", err)
		return
	}
	clear(w.labels)
	for _, c := range list {
		w.labels[c.ID] = c.Label
	}
	e.Label = w.labels[e.CodeID]
}

// Lock asks lockd to lock; lockd decides whether this caller may.
func (w *Watcher) Lock(ctx context.Context) error { return w.call(ctx, "Lock") }

// Unlock asks lockd to unlock; lockd decides whether this caller may.
func (w *Watcher) Unlock(ctx context.Context) error { return w.call(ctx, "Unlock") }

func (w *Watcher) call(ctx context.Context, method string) error {
	w.mu.Lock()
	conn := w.conn
	w.mu.Unlock()
	if conn == nil {
		return ErrUnreachable
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	err := conn.Object(wire.BusName, wire.ObjectPath).CallWithContext(ctx, wire.Lock1+"."+method, 0).Err
	var de dbus.Error
	if errors.As(err, &de) {
		reason := ""
		if len(de.Body) > 0 {
			reason, _ = de.Body[0].(string)
		}
		return fmt.Errorf("lockbus: %s: lockd answered %s: %s", method, de.Name, reason)
	}
	if err != nil {
		return fmt.Errorf("lockbus: %s: %w", method, err)
	}
	return nil
}

func (w *Watcher) setConn(c *dbus.Conn) {
	w.mu.Lock()
	w.conn = c
	w.mu.Unlock()
}

func errName(err error) string {
	var de dbus.Error
	if errors.As(err, &de) {
		return de.Name
	}
	var dp *dbus.Error
	if errors.As(err, &dp) {
		return dp.Name
	}
	return ""
}

// send delivers u unless ctx ends first.
func send(ctx context.Context, out chan<- Update, u Update) {
	select {
	case out <- u:
	case <-ctx.Done():
	}
}

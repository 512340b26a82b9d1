package dbusapi_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/dbusapi"
	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/internal/board"
	"lockd.dev/lockd/internal/codeslink"
	"lockd.dev/lockd/internal/config"
	"lockd.dev/lockd/internal/dbustest"
	"lockd.dev/lockd/lock"
)

// Compile-time checks: the real parts satisfy the service's interfaces.
var (
	_ dbusapi.Lock      = (*lock.Core)(nil)
	_ dbusapi.Codes     = (*codes.Store)(nil)
	_ dbusapi.Simulator = (*sim.Board)(nil)

	_ dbusapi.ModeControl   = (*lock.Core)(nil)
	_ dbusapi.AlarmSwitches = (*sim.Board)(nil)
)

// Codes used by the tests. adminCode passes the admin rules, userCode the
// user rules; neither starts or ends the other.
const (
	adminCode = "135790"
	userCode  = "2580"
)

// rig is lockd's D-Bus side with real parts: a private system bus with
// the shipped policy, the lock core on the real drivers against the
// simulated board, a real code store in a temporary directory, and the
// service on a root connection.
type rig struct {
	bus    *dbustest.Bus
	groups dbustest.Groups
	board  *sim.Board
	core   *lock.Core
	store  *codes.Store
	svc    *dbusapi.Service
	unit   *unit      // the updater behind Update1; nil with noUpdater
	client *dbus.Conn // a root client
	obj    dbus.BusObject

	// stopService cancels Serve and checks it returned nil.
	stopService func(t *testing.T)
}

type rigOptions struct {
	extraPolicy string // see dbustest.Options
	noSim       bool   // do not export Simulator1
	noUpdater   bool   // do not export Update1
	onBus       func(error)
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newRig(t *testing.T, o rigOptions) *rig {
	t.Helper()
	for _, tool := range []string{"busctl", "gdbus", "dbus-send", "setpriv"} {
		dbustest.Need(t, tool)
	}
	r := &rig{groups: dbustest.EnsureGroups(t)}
	r.bus = dbustest.Start(t, dbustest.Options{ExtraPolicy: o.extraPolicy})
	ctx, cancel := context.WithCancel(context.Background())

	dir := t.TempDir()
	if _, err := codes.FactoryInit(dir, false); err != nil {
		t.Fatal(err)
	}
	store, err := codes.Open(ctx, codes.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	r.store = store
	r.board, r.core = newCore(t, store)

	coreDone := make(chan error, 1)
	go func() { coreDone <- r.core.Run(ctx) }()
	<-r.core.Ready()

	// The service connects as lockd does: through busguard, reconnecting.
	cfg := dbusapi.Config{Bus: r.bus.Address, Lock: r.core, Codes: store, Sim: r.board, Log: discard(), OnBus: o.onBus}
	if o.noSim {
		cfg.Sim = nil
	}
	if !o.noUpdater {
		r.unit = newUnit(t)
		cfg.Updater = r.unit.upd
	}
	var err2 error
	if r.svc, err2 = dbusapi.New(cfg); err2 != nil {
		t.Fatal(err)
	}
	serveCtx, stopServe := context.WithCancel(ctx)
	serveDone := make(chan error, 1)
	go func() { serveDone <- r.svc.Serve(serveCtx) }()
	select {
	case <-r.svc.Ready():
	case err := <-serveDone:
		t.Fatalf("Serve: %v", err)
	}
	r.stopService = func(t *testing.T) {
		t.Helper()
		stopServe()
		if err := <-serveDone; err != nil {
			t.Errorf("Serve returned %v after cancel, want nil", err)
		}
		serveDone <- nil // for the next call
	}
	t.Cleanup(func() {
		r.stopService(t)
		cancel()
		if err := <-coreDone; err != nil {
			t.Errorf("core: %v", err)
		}
		store.Close()
	})
	r.client = r.bus.Conn(t)
	r.obj = r.client.Object(wire.BusName, wire.ObjectPath)
	return r
}

// newCore builds the lock core as lockd --sim does: real drivers on the
// electrical model, the store behind the core's interface, every event
// written to the audit log.
func newCore(t *testing.T, store *codes.Store) (*sim.Board, *lock.Core) {
	t.Helper()
	c := config.Default()
	c.Keypad.DebounceMS, c.Door.DebounceMS, c.Bolt.TravelMS = 5, 5, 300
	b, c, err := board.NewSim(c, sim.BoardConfig{Travel: 60 * time.Millisecond, Start: sim.BoltLocked})
	if err != nil {
		t.Fatal(err)
	}
	hw, err := board.Build(c, b.ByName, discard())
	if err != nil {
		t.Fatal(err)
	}
	core, err := lock.New(lock.Config{Keypad: hw.Keypad(), Bolt: hw.Bolt(), Codes: codeslink.Codes{Store: store},
		Door: hw.Door, DoorGuard: true, Log: discard(),
		States: codeslink.States{Store: store}, Tamper: hw.Tamper, Power: hw.Power,
		Sink: codeslink.AuditSink(context.Background(), store, func(_ lock.Event, err error) {
			if !errors.Is(err, codes.ErrClosed) {
				t.Errorf("audit: %v", err)
			}
		})})
	if err != nil {
		t.Fatal(err)
	}
	return b, core
}

// Users the tests call as.
func (r *rig) nobody() dbustest.User { return dbustest.Unprivileged() }
func (r *rig) reader() dbustest.User { return dbustest.Unprivileged(r.groups.Lockd) }
func (r *rig) admin() dbustest.User  { return dbustest.Unprivileged(r.groups.Admin) }

// call runs `busctl call` on lockd's object as u.
func (r *rig) call(t *testing.T, u dbustest.User, iface, method string, sigAndArgs ...string) dbustest.Result {
	t.Helper()
	args := append([]string{"call", wire.BusName, string(wire.ObjectPath), iface, method}, sigAndArgs...)
	return r.bus.Busctl(t, u, args...)
}

// mustCall is call that fails the test unless the call succeeds.
func (r *rig) mustCall(t *testing.T, u dbustest.User, iface, method string, sigAndArgs ...string) string {
	t.Helper()
	res := r.call(t, u, iface, method, sigAndArgs...)
	if !res.OK() {
		t.Fatalf("%s: busctl call %s.%s %v: %v\n%s", u, iface, method, sigAndArgs, res.Err, res.Output())
	}
	return res.Stdout
}

// gcall runs `gdbus call` of iface.method on lockd's object as u.
func (r *rig) gcall(t *testing.T, u dbustest.User, method string, args ...string) dbustest.Result {
	t.Helper()
	return r.bus.Gdbus(t, u, "call", append([]string{"--dest", wire.BusName, "--object-path", string(wire.ObjectPath),
		"--method", method}, args...)...)
}

// provision sets the admin code as root.
func (r *rig) provision(t *testing.T) {
	t.Helper()
	r.mustCall(t, dbustest.Root, wire.Codes1, "SetAdminCode", "s", adminCode)
}

// list returns Codes1.List through the root godbus client.
func (r *rig) list(t *testing.T) []codeEntry {
	t.Helper()
	var out []codeEntry
	if err := r.obj.Call(wire.Codes1+".List", 0).Store(&out); err != nil {
		t.Fatalf("List: %v", err)
	}
	return out
}

type codeEntry struct {
	ID      uint32
	Label   string
	Details map[string]dbus.Variant
}

type logEntry struct {
	ID      uint64
	Details map[string]dbus.Variant
}

// log returns the whole audit log through the root godbus client.
func (r *rig) log(t *testing.T) []logEntry {
	t.Helper()
	var out []logEntry
	if err := r.obj.Call(wire.Codes1+".Log", 0, uint64(0), uint32(1000)).Store(&out); err != nil {
		t.Fatalf("Log: %v", err)
	}
	return out
}

// auditCount is how many events a Log entry stands for: refusals that
// repeat are one row with a count (codes.DetailCount).
func auditCount(t *testing.T, e logEntry) int {
	t.Helper()
	d, ok := e.Details[wire.KeyDetails]
	if !ok {
		return 1
	}
	m, ok := d.Value().(map[string]string)
	if !ok {
		t.Fatalf("audit details %v: want a{ss}", d)
	}
	n, ok := m[codes.DetailCount]
	if !ok {
		return 1
	}
	c, err := strconv.Atoi(n)
	if err != nil || c < 1 {
		t.Fatalf("audit count %q", n)
	}
	return c
}

// prop reads a Lock1 property through the root godbus client.
func (r *rig) prop(t *testing.T, name string) any {
	t.Helper()
	v, err := r.obj.GetProperty(wire.Lock1 + "." + name)
	if err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	return v.Value()
}

// signals records the signals a client receives. wait takes the first
// recorded signal that matches and was not taken before, in any order:
// lockd sends PropertiesChanged before the Event of the same change.
type signals struct {
	ch   <-chan *dbus.Signal
	seen []*dbus.Signal
}

func (s *signals) wait(t *testing.T, what string, match func(*dbus.Signal) bool) *dbus.Signal {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for i := 0; ; i++ {
		for ; i < len(s.seen); i++ {
			if s.seen[i] != nil && match(s.seen[i]) {
				sig := s.seen[i]
				s.seen[i] = nil
				return sig
			}
		}
		select {
		case sig := <-s.ch:
			s.seen = append(s.seen, sig)
			i--
		case <-deadline:
			t.Fatalf("no %s signal within 10 s", what)
			return nil
		}
	}
}

// eventOf matches an Event signal of kind.
func eventOf(kind string) func(*dbus.Signal) bool {
	return func(s *dbus.Signal) bool {
		return s.Name == wire.Lock1+"."+wire.Event && len(s.Body) == 2 && s.Body[0] == kind
	}
}

// changed matches a PropertiesChanged carrying name = want.
func changed(name string, want any) func(*dbus.Signal) bool {
	return func(s *dbus.Signal) bool {
		if s.Name != "org.freedesktop.DBus.Properties.PropertiesChanged" || len(s.Body) != 3 || s.Body[0] != wire.Lock1 {
			return false
		}
		m, _ := s.Body[1].(map[string]dbus.Variant)
		v, ok := m[name]
		return ok && v.Value() == want
	}
}

// lockSignals subscribes to every signal lockd's object sends.
func (r *rig) lockSignals(t *testing.T) *signals {
	t.Helper()
	return &signals{ch: r.bus.Signals(t, dbus.WithMatchObjectPath(wire.ObjectPath))}
}

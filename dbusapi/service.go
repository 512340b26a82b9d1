package dbusapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"

	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/lock"
	"lockd.dev/lockd/updater"
)

// Config wires the service. Lock and one of Conn and Bus are required.
type Config struct {
	// Conn is a connected bus to serve on once: Serve returns when it is
	// lost. The service does not close it.
	Conn *dbus.Conn
	// Bus is the bus lockd serves on ("system", "session" or a D-Bus
	// address, as for Dial), when Conn is nil. Serve then connects
	// itself, through busguard (guard.go), and connects again, with
	// backoff, whenever the connection is lost (keep.go).
	Bus string
	// OnBus, when set, is told each time the service owns the bus name
	// (nil) and each time it has lost the bus or could not get it back
	// (why). Called from Serve's goroutine; it must not block.
	OnBus func(err error)
	Lock  Lock
	// Codes nil means the store could not be opened: Codes1 methods then
	// fail with io.lockd.Error.Unavailable, and denials are only logged.
	Codes Codes
	// Sim, when set, exports io.lockd.Simulator1.
	Sim Simulator
	// Updater, when set, exports io.lockd.Update1. The service reads its
	// Changed channel and subscribes to its events: nothing else should
	// read Changed.
	Updater Updater
	// OpenURL starts the download of a bundle for Update1.InstallFromURL
	// (updater/httpsource, wired by cmd/lockd); nil refuses it as
	// unavailable. The download lives until ctx ends.
	OpenURL func(ctx context.Context, url string) (updater.Source, error)
	// Log defaults to slog.Default().
	Log *slog.Logger
	// AdminGroup may call every method; default "lockd-admin".
	AdminGroup string
	// ReaderGroup may read the lock's state and the audit log, not the
	// codes; default "lockd".
	ReaderGroup string
	// OwnUserIsAdmin admits lockd's own UID like root. Only for a private
	// bus that nobody else can connect to (the simulator's, whose
	// dbus-daemon takes only the user who started it): there the person
	// who ran `make run` administers their simulated lock without root.
	// Never on the system bus, where lockd's user is not the owner.
	OwnUserIsAdmin bool
	// Now defaults to time.Now.
	Now func() time.Time
}

// DefaultAdminGroup is the group whose members may change state.
const DefaultAdminGroup = "lockd-admin"

// DefaultReaderGroup is the group whose members may read the lock's state
// (properties, signals) and the audit log.
const DefaultReaderGroup = "lockd"

// Timing. A handler gives up after callTimeout (the lock core answers a
// command within a loop turn, the store within a write); the properties
// are re-read every resyncEvery because a slow subscriber may lose events.
const (
	callTimeout = 10 * time.Second
	resyncEvery = time.Second
	eventBuffer = 128
)

// ErrNameTaken is returned by Serve when another connection owns the bus
// name: another lockd is running.
var ErrNameTaken = errors.New("dbusapi: bus name already owned")

// Service is lockd on D-Bus. Create it with New, run it with Serve.
type Service struct {
	cfg         Config
	conn        *dbus.Conn
	log         *slog.Logger
	now         func() time.Time
	adminGroup  string
	ownUID      uint32 // lockd's own user, for OwnUserIsAdmin
	readerGroup string

	// Seams for tests of the authorisation (authz.go).
	credentials func(ctx context.Context, sender string) (caller, error)
	lookupGroup func(name string) (uint32, error)
	userGroups  func(uid uint32) ([]uint32, error)

	signatures map[string]string // in-args of every method (call.go)

	served    atomic.Bool
	ready     chan struct{}
	readyOnce sync.Once
	base      context.Context // Serve's; set before any handler is exported
	// props is the snapshot of every exported property value, replaced
	// as a whole on a change (props.go); nil while nothing is exported.
	props  map[string]map[string]any
	propMu sync.Mutex // guards props and serialises syncProps
}

// New checks cfg and returns a service ready to Serve.
func New(cfg Config) (*Service, error) {
	if (cfg.Conn == nil) == (cfg.Bus == "") {
		return nil, errors.New("dbusapi: want a bus connection or a bus to connect to, one of them")
	}
	// A nil *codes.Store or *sim.Board in an interface is not a nil
	// interface; the daemon has both kinds of nil at hand.
	if isNil(cfg.Codes) {
		cfg.Codes = nil
	}
	if isNil(cfg.Sim) {
		cfg.Sim = nil
	}
	if isNil(cfg.Updater) {
		cfg.Updater = nil
	}
	if isNil(cfg.Lock) {
		return nil, errors.New("dbusapi: no lock core")
	}
	s := &Service{cfg: cfg, conn: cfg.Conn, log: cfg.Log, now: cfg.Now, adminGroup: cfg.AdminGroup,
		readerGroup: cfg.ReaderGroup, lookupGroup: lookupGroup, userGroups: userGroups, ready: make(chan struct{}),
		ownUID: uint32(os.Getuid())}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.adminGroup == "" {
		s.adminGroup = DefaultAdminGroup
	}
	if s.readerGroup == "" {
		s.readerGroup = DefaultReaderGroup
	}
	s.credentials = s.busCredentials
	s.signatures = inSignatures()
	return s, nil
}

func isNil(v any) bool {
	if v == nil {
		return true
	}
	r := reflect.ValueOf(v)
	return r.Kind() == reflect.Pointer && r.IsNil()
}

// object is one interface exported on wire.ObjectPath: its introspection
// and the value whose exported methods godbus calls.
type object struct {
	spec    introspect.Interface
	handler any
}

// objects lists the io.lockd.* interfaces this service exports.
func (s *Service) objects() []object {
	return interfaces(s, s.cfg.Sim != nil, s.cfg.Updater != nil)
}

// interfaces lists the io.lockd.* interfaces, Simulator1 only with sim,
// Update1 only with update. A new interface adds its own file and one
// line here.
func interfaces(s *Service, sim, update bool) []object {
	objs := []object{
		{lock1Spec(), lock1{s}},
		{codes1Spec(), codes1{s}},
		{users1Spec(), users1{s}},
	}
	if update {
		objs = append(objs, object{update1Spec(), update1{s}})
	}
	if sim {
		objs = append(objs, object{sim1Spec(), sim1{s}})
	}
	return objs
}

// Serve exports the object, takes the bus name and forwards the lock's
// events as Event signals and PropertiesChanged until ctx is cancelled;
// then it releases the name, withdraws the object and returns nil.
//
// On Config.Conn it fails at once if the name is owned already
// (ErrNameTaken) or the policy refuses it, and returns an error if the
// connection is lost. On Config.Bus it never gives up: it reports each
// failure to OnBus and tries again (keep.go).
func (s *Service) Serve(ctx context.Context) error {
	if !s.served.CompareAndSwap(false, true) {
		return errors.New("dbusapi: Serve called twice")
	}
	s.base = ctx
	f := s.subscribe()
	defer f.stop()
	if s.cfg.Conn == nil {
		return s.keep(ctx, f)
	}
	if err := s.attach(); err != nil {
		return err
	}
	defer s.detach()
	s.readyOnce.Do(func() { close(s.ready) })
	return s.run(ctx, f, s.conn.Context().Done())
}

// Ready is closed once Serve owns the bus name and answers calls: the
// moment for READY=1, so that a client started after lockd finds it.
func (s *Service) Ready() <-chan struct{} { return s.ready }

// feeds are what the service forwards: the lock's events, the updater's
// events and its change notices (nil without an updater).
type feeds struct {
	events  <-chan lock.Event
	updates <-chan updater.Event
	changed <-chan struct{}
	stop    func()
}

// subscribe opens the feeds, before the first Status is read so that no
// change falls between the snapshot and the stream. They last as long as
// Serve, across connections.
func (s *Service) subscribe() *feeds {
	f := &feeds{}
	var stopEvents func()
	f.events, stopEvents = s.cfg.Lock.Subscribe(eventBuffer)
	stops := []func(){stopEvents}
	if u := s.cfg.Updater; u != nil {
		var stopUpdates func()
		f.updates, stopUpdates = u.Subscribe(eventBuffer)
		stops = append(stops, stopUpdates)
		f.changed = u.Changed()
	}
	f.stop = func() {
		for _, stop := range stops {
			stop()
		}
	}
	return f
}

// attach exports the object and takes the bus name on s.conn; on failure
// nothing stays exported.
func (s *Service) attach() error {
	if err := s.export(); err != nil {
		s.unexport()
		return err
	}
	if err := s.requestName(); err != nil {
		s.unexport()
		return err
	}
	s.log.Info("dbusapi: serving", "name", wire.BusName, "path", wire.ObjectPath, "simulator", s.cfg.Sim != nil,
		"updater", s.cfg.Updater != nil)
	return nil
}

// detach releases the name and withdraws the object.
func (s *Service) detach() {
	s.releaseName()
	s.unexport()
}

// run forwards events and changes until ctx ends (nil) or lost is closed
// (an error).
func (s *Service) run(ctx context.Context, f *feeds, lost <-chan struct{}) error {
	tick := time.NewTicker(resyncEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-lost:
			return errors.New("dbusapi: bus connection lost")
		case e, ok := <-f.events:
			if !ok {
				f.events = nil
				continue
			}
			s.syncProps()
			s.emit(e.Kind, lockEventDetails(e))
		case e, ok := <-f.updates:
			if !ok {
				f.updates = nil
				continue
			}
			s.syncProps()
			s.updateEvent(ctx, e)
		case <-f.changed:
			s.syncProps()
		case <-tick.C:
			s.syncProps()
		}
	}
}

func (s *Service) export() error {
	s.propMu.Lock()
	s.props = s.propMap()
	s.propMu.Unlock()
	if err := s.conn.Export(props1{s}, wire.ObjectPath, propertiesIface); err != nil {
		return fmt.Errorf("dbusapi: export properties: %w", err)
	}
	for _, o := range s.objects() {
		if err := s.conn.Export(o.handler, wire.ObjectPath, o.spec.Name); err != nil {
			return fmt.Errorf("dbusapi: export %s: %w", o.spec.Name, err)
		}
	}
	err := s.conn.Export(introspect.Introspectable(s.introspection()), wire.ObjectPath, introspectable)
	if err != nil {
		return fmt.Errorf("dbusapi: export introspection: %w", err)
	}
	return nil
}

func (s *Service) unexport() {
	for _, name := range []string{introspectable, propertiesIface} {
		_ = s.conn.Export(nil, wire.ObjectPath, name)
	}
	for _, o := range s.objects() {
		_ = s.conn.Export(nil, wire.ObjectPath, o.spec.Name)
	}
	s.propMu.Lock()
	s.props = nil
	s.propMu.Unlock()
}

func (s *Service) requestName() error {
	ctx, cancel := s.callContext()
	defer cancel()
	var r uint32
	err := s.conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.RequestName", 0, wire.BusName, uint32(dbus.NameFlagDoNotQueue)).Store(&r)
	if err != nil {
		return fmt.Errorf("dbusapi: request bus name %s (the D-Bus policy io.lockd.Lock1.conf lets only root and user lockd own it): %w", wire.BusName, err)
	}
	switch dbus.RequestNameReply(r) {
	case dbus.RequestNameReplyPrimaryOwner, dbus.RequestNameReplyAlreadyOwner:
		return nil
	}
	var owner string
	_ = s.conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.GetNameOwner", 0, wire.BusName).Store(&owner)
	return fmt.Errorf("%w: %s is owned by %s; is another lockd running?", ErrNameTaken, wire.BusName, owner)
}

func (s *Service) releaseName() {
	if _, err := s.conn.ReleaseName(wire.BusName); err != nil && s.conn.Connected() {
		s.log.Warn("dbusapi: release bus name", "err", err)
	}
}

// callContext bounds one method call.
func (s *Service) callContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(s.base, callTimeout)
}

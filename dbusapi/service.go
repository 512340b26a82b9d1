package dbusapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"
	"github.com/godbus/dbus/v5/prop"

	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/lock"
	"lockd.dev/lockd/updater"
)

// Config wires the service. Conn and Lock are required.
type Config struct {
	// Conn is a connected bus; the daemon chooses which (see Dial). The
	// service does not close it.
	Conn *dbus.Conn
	Lock Lock
	// Codes nil means the store could not be opened: Codes1 methods then
	// fail with io.lockd.Error.Unavailable, and denials are only logged.
	Codes Codes
	// Sim, when set, exports io.lockd.Simulator1.
	Sim Simulator
	// Updater, when set, exports io.lockd.Update1. The service reads its
	// Changed channel and subscribes to its events: nothing else should
	// read Changed.
	Updater Updater
	// Log defaults to slog.Default().
	Log *slog.Logger
	// AdminGroup may call every method; default "lockd-admin".
	AdminGroup string
	// Now defaults to time.Now.
	Now func() time.Time
}

// DefaultAdminGroup is the group whose members may change state.
const DefaultAdminGroup = "lockd-admin"

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
	cfg        Config
	conn       *dbus.Conn
	log        *slog.Logger
	now        func() time.Time
	adminGroup string

	// Seams for tests of the authorisation (authz.go).
	credentials func(ctx context.Context, sender string) (caller, error)
	lookupGroup func(name string) (uint32, error)
	userGroups  func(uid uint32) ([]uint32, error)

	signatures map[string]string // in-args of every method (call.go)

	served atomic.Bool
	ready  chan struct{}
	base   context.Context // Serve's; set before any handler is exported
	props  *prop.Properties
	propMu sync.Mutex // serialises syncProps
}

// New checks cfg and returns a service ready to Serve.
func New(cfg Config) (*Service, error) {
	if cfg.Conn == nil {
		return nil, errors.New("dbusapi: no bus connection")
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
		lookupGroup: lookupGroup, userGroups: userGroups, ready: make(chan struct{})}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.adminGroup == "" {
		s.adminGroup = DefaultAdminGroup
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
// then it releases the name, withdraws the object and returns nil. It
// fails at once if the name is owned already (ErrNameTaken) or the policy
// refuses it, and returns an error if the bus connection is lost.
func (s *Service) Serve(ctx context.Context) error {
	if !s.served.CompareAndSwap(false, true) {
		return errors.New("dbusapi: Serve called twice")
	}
	s.base = ctx
	// Subscribe before reading the first Status, so no change falls
	// between the snapshot and the stream.
	events, stop := s.cfg.Lock.Subscribe(eventBuffer)
	defer stop()
	var updates <-chan updater.Event
	var changed <-chan struct{}
	if u := s.cfg.Updater; u != nil {
		var stopUpdates func()
		updates, stopUpdates = u.Subscribe(eventBuffer)
		defer stopUpdates()
		changed = u.Changed()
	}
	if err := s.export(); err != nil {
		s.unexport()
		return err
	}
	defer s.unexport()
	if err := s.requestName(); err != nil {
		return err
	}
	defer s.releaseName()
	close(s.ready)
	s.log.Info("dbusapi: serving", "name", wire.BusName, "path", wire.ObjectPath, "simulator", s.cfg.Sim != nil,
		"updater", s.cfg.Updater != nil)
	return s.run(ctx, events, updates, changed)
}

// Ready is closed once Serve owns the bus name and answers calls: the
// moment for READY=1, so that a client started after lockd finds it.
func (s *Service) Ready() <-chan struct{} { return s.ready }

// run forwards events and changes; updates and changed are nil without an
// updater.
func (s *Service) run(ctx context.Context, events <-chan lock.Event, updates <-chan updater.Event, changed <-chan struct{}) error {
	tick := time.NewTicker(resyncEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.conn.Context().Done():
			return errors.New("dbusapi: bus connection lost")
		case e, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			s.syncProps()
			s.emit(e.Kind, lockEventDetails(e))
		case e, ok := <-updates:
			if !ok {
				updates = nil
				continue
			}
			s.syncProps()
			s.updateEvent(ctx, e)
		case <-changed:
			s.syncProps()
		case <-tick.C:
			s.syncProps()
		}
	}
}

func (s *Service) export() error {
	var err error
	s.propMu.Lock()
	s.props, err = prop.Export(s.conn, wire.ObjectPath, s.propsOf(s.propMap()))
	s.propMu.Unlock()
	if err != nil {
		return fmt.Errorf("dbusapi: export properties: %w", err)
	}
	for _, o := range s.objects() {
		if err := s.conn.Export(o.handler, wire.ObjectPath, o.spec.Name); err != nil {
			return fmt.Errorf("dbusapi: export %s: %w", o.spec.Name, err)
		}
	}
	err = s.conn.Export(introspect.Introspectable(s.introspection()), wire.ObjectPath, introspectable)
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
}

func (s *Service) requestName() error {
	r, err := s.conn.RequestName(wire.BusName, dbus.NameFlagDoNotQueue)
	if err != nil {
		return fmt.Errorf("dbusapi: request bus name %s (the D-Bus policy io.lockd.Lock1.conf lets only root and user lockd own it): %w", wire.BusName, err)
	}
	switch r {
	case dbus.RequestNameReplyPrimaryOwner, dbus.RequestNameReplyAlreadyOwner:
		return nil
	}
	var owner string
	_ = s.conn.BusObject().Call("org.freedesktop.DBus.GetNameOwner", 0, wire.BusName).Store(&owner)
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

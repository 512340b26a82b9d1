package dbusapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/lock"
	"lockd.dev/lockd/updater"
)

// fakeLock is a Lock that records commands.
type fakeLock struct {
	mu        sync.Mutex
	status    lock.Status
	calls     []string
	refreshes int
	announced []lock.Event
	err       error // returned by Lock and Unlock
	// announceErr, when set, is Announce's answer (and nothing is
	// announced).
	announceErr error
}

var _ Lock = (*fakeLock)(nil)

func (f *fakeLock) Status() lock.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

func (f *fakeLock) command(name, source string, uid int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("%s %s %d", name, source, uid))
	return f.err
}

func (f *fakeLock) Lock(_ context.Context, source string, uid int) error {
	return f.command("lock", source, uid)
}

func (f *fakeLock) Unlock(_ context.Context, source string, uid int) error {
	return f.command("unlock", source, uid)
}

func (f *fakeLock) Subscribe(int) (<-chan lock.Event, func()) {
	return make(chan lock.Event), func() {}
}

func (f *fakeLock) Refresh(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refreshes++
	return nil
}

func (f *fakeLock) Announce(_ context.Context, e lock.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.announceErr != nil {
		return f.announceErr
	}
	f.announced = append(f.announced, e)
	f.refreshes++
	return nil
}

// fakeCodes is a Codes that records every call and fails none.
type fakeCodes struct {
	mu    sync.Mutex
	calls []string
	audit []codes.AuditEvent
	list  []codes.Info
}

var _ Codes = (*fakeCodes)(nil)

func (f *fakeCodes) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func (f *fakeCodes) SetAdmin(context.Context, string, time.Time) error {
	f.record("SetAdmin")
	return nil
}

func (f *fakeCodes) Add(_ context.Context, label, _ string, o codes.AddOptions) (codes.Info, error) {
	f.record("Add %s %+v", label, o)
	return codes.Info{ID: 7, Slot: 1, Label: label, Kind: o.Kind}, nil
}

func (f *fakeCodes) List(context.Context) ([]codes.Info, error) { return f.list, nil }

func (f *fakeCodes) Remove(_ context.Context, id int64) error {
	f.record("Remove %d", id)
	return nil
}

func (f *fakeCodes) SetEnabled(_ context.Context, id int64, on bool) error {
	f.record("SetEnabled %d %v", id, on)
	return nil
}

func (f *fakeCodes) ResetLockout(context.Context) error {
	f.record("ResetLockout")
	return nil
}

func (f *fakeCodes) Log(context.Context, int64, int) ([]codes.AuditEvent, error) { return nil, nil }

func (f *fakeCodes) Record(_ context.Context, e codes.AuditEvent) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.audit = append(f.audit, e)
	return nil
}

// testService is a service on fakes that is not serving: handlers are
// called directly, and the caller's credentials are c.
func testService(t testing.TB, c caller) (*Service, *fakeLock, *fakeCodes) {
	t.Helper()
	l, st := &fakeLock{}, &fakeCodes{}
	s, err := New(Config{Conn: new(dbus.Conn), Lock: l, Codes: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	s.base = context.Background()
	s.credentials = func(context.Context, string) (caller, error) { return c, nil }
	s.lookupGroup = func(name string) (uint32, error) {
		if name != DefaultAdminGroup {
			return 0, fmt.Errorf("no group %s", name)
		}
		return 990, nil
	}
	s.userGroups = func(uint32) ([]uint32, error) { return nil, nil }
	return s, l, st
}

// message builds a method call as godbus hands it to a handler.
func message(iface, member string, body ...any) dbus.Message {
	m := dbus.Message{Type: dbus.TypeMethodCall, Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldInterface: dbus.MakeVariant(iface),
		dbus.FieldMember:    dbus.MakeVariant(member),
		dbus.FieldSender:    dbus.MakeVariant(":1.42"),
	}, Body: body}
	if len(body) > 0 {
		m.Headers[dbus.FieldSignature] = dbus.MakeVariant(dbus.SignatureOf(body...))
	}
	return m
}

// fakeUpdater is an Updater that records calls. Install reads what it
// was given and closes it, as the updater does.
type fakeUpdater struct {
	mu      sync.Mutex
	calls   []string
	status  updater.Status
	err     error  // returned by Install, Approve and Reject
	read    []byte // what the last Install read through its file
	changed chan struct{}
	events  chan updater.Event
	// commitAt is TrialCommitsAt's answer.
	commitAt time.Time
}

var _ Updater = (*fakeUpdater)(nil)

func newFakeUpdater() *fakeUpdater {
	return &fakeUpdater{status: updater.Status{Operation: "idle", Booted: updater.SlotA, Policy: updater.RebootApprove,
		Slots: map[updater.Slot]updater.SlotInfo{updater.SlotA: {State: updater.SlotGood, Version: "1.0.0"}, updater.SlotB: {State: updater.SlotEmpty}}},
		changed: make(chan struct{}, 1), events: make(chan updater.Event, 16)}
}

func (f *fakeUpdater) Status() updater.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

// setStatus changes the status and signals Changed.
func (f *fakeUpdater) setStatus(fn func(*updater.Status)) {
	f.mu.Lock()
	fn(&f.status)
	f.mu.Unlock()
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

func (f *fakeUpdater) Changed() <-chan struct{} { return f.changed }

func (f *fakeUpdater) TrialCommitsAt() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.commitAt
}

func (f *fakeUpdater) Subscribe(int) (<-chan updater.Event, func()) { return f.events, func() {} }

func (f *fakeUpdater) Install(_ context.Context, file *os.File, o updater.InstallOptions) error {
	defer file.Close()
	b, rerr := io.ReadAll(io.NewSectionReader(file, 0, 1<<20))
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("Install %+v", o))
	f.read = b
	if rerr != nil {
		return rerr
	}
	return f.err
}

func (f *fakeUpdater) Approve(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "Approve")
	return f.err
}

func (f *fakeUpdater) Reject(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "Reject")
	return f.err
}

func (f *fakeUpdater) takeCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

func (f *fakeUpdater) lastRead() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return string(f.read)
}

package dbusapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/google/go-cmp/cmp"

	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/internal/dbustest"
	"lockd.dev/lockd/updater"
)

// updateBus is the service on fakes, with a fake updater, serving on a
// private system bus with the shipped policy (plus extraPolicy).
type updateBus struct {
	bus   *dbustest.Bus
	upd   *fakeUpdater
	codes *fakeCodes
	obj   dbus.BusObject
}

func newUpdateBus(t *testing.T, extraPolicy string) *updateBus {
	t.Helper()
	dbustest.EnsureGroups(t)
	b := &updateBus{bus: dbustest.Start(t, dbustest.Options{ExtraPolicy: extraPolicy}), upd: newFakeUpdater(), codes: &fakeCodes{}}
	// Served as lockd serves: through busguard.
	s, err := New(Config{Bus: b.bus.Address, Lock: &fakeLock{}, Codes: b.codes, Updater: b.upd, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("Serve: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	b.obj = b.bus.Conn(t).Object(wire.BusName, wire.ObjectPath)
	return b
}

// TestUpdate1Hostile sends what a confused or hostile admin client might
// to Update1 through a real bus: every call gets InvalidArgs with a
// reason, every descriptor lockd received is closed, and nothing reaches
// the updater or the audit log.
func TestUpdate1Hostile(t *testing.T) {
	b := newUpdateBus(t, "")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// Calls godbus refuses before lockd's code runs get another pipe:
	// godbus would not close descriptors that came with them, so
	// busguard closes every one a call does not take before godbus sees
	// it (checked below).
	stray, strayW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stray.Close()
	defer strayW.Close()
	good := map[string]dbus.Variant{wire.OptAllowDowngrade: dbus.MakeVariant(true)}
	cases := []struct {
		name   string
		method string
		args   []any
		reason string
	}{
		{"Install with a string", "Install", []any{"/tmp/bundle"}, ""},
		{"Install with no descriptor", "Install", nil, ""},
		{"Install with two descriptors", "Install", []any{dbus.UnixFD(stray.Fd()), dbus.UnixFD(stray.Fd())}, ""},
		{"InstallWithOptions a{ss}", "InstallWithOptions", []any{dbus.UnixFD(r.Fd()), map[string]string{"allow-downgrade": "true"}},
			"InstallWithOptions takes (ha{sv}), not (ha{ss})"},
		{"InstallWithOptions without options", "InstallWithOptions", []any{dbus.UnixFD(stray.Fd())}, ""},
		{"unknown option", "InstallWithOptions", []any{dbus.UnixFD(r.Fd()), map[string]dbus.Variant{"force": dbus.MakeVariant(true)}},
			`unknown option "force"`},
		{"option of the wrong type", "InstallWithOptions", []any{dbus.UnixFD(r.Fd()), map[string]dbus.Variant{"allow-downgrade": dbus.MakeVariant("yes")}},
			"option allow-downgrade: want type b, got s"},
		// (A 1 MiB option key is TestParseInstallOptions': godbus's client
		// cannot send a message that large with a descriptor in one write.)
		{"option key 4 KiB", "InstallWithOptions", []any{dbus.UnixFD(r.Fd()), map[string]dbus.Variant{strings.Repeat("k", 4096): dbus.MakeVariant(true)}},
			"unknown option"},
		{"a pipe", "Install", []any{dbus.UnixFD(r.Fd())}, "pipe, not a regular file"},
		{"a pipe with options", "InstallWithOptions", []any{dbus.UnixFD(r.Fd()), good}, "pipe, not a regular file"},
		{"Approve with an argument", "Approve", []any{true}, ""},
		{"Reject with a descriptor", "Reject", []any{dbus.UnixFD(stray.Fd())}, ""},
	}
	for _, c := range cases {
		err := b.obj.Call(wire.Update1+"."+c.method, 0, c.args...).Err
		var de dbus.Error
		if !errors.As(err, &de) || de.Name != wire.ErrInvalidArgs {
			t.Errorf("%s: got %v, want %s", c.name, err, wire.ErrInvalidArgs)
			continue
		}
		msg, _ := de.Body[0].(string)
		if !strings.Contains(msg, c.reason) || msg == "" || len(msg) > 300 {
			t.Errorf("%s: reason %q, want one containing %q", c.name, msg, c.reason)
		}
	}
	if got := b.upd.takeCalls(); len(got) != 0 {
		t.Errorf("refused calls reached the updater: %q", got)
	}
	if len(b.codes.audit) != 0 {
		t.Errorf("refused calls audited: %+v", b.codes.audit)
	}
	// Every call whose handler ran closed what it received, and busguard
	// closed what the others came with.
	r.Close()
	if _, err := w.Write([]byte("x")); err == nil {
		t.Errorf("lockd kept a received pipe descriptor open")
	}
	stray.Close()
	if _, err := strayW.Write([]byte("x")); err == nil {
		t.Errorf("lockd kept a descriptor that came with a call godbus refused")
	}
}

// TestUpdate1Serves: Install reads the caller's file through its
// descriptor; the properties follow the updater, with PropertiesChanged;
// the updater's events are Event signals and audit entries.
func TestUpdate1Serves(t *testing.T) {
	b := newUpdateBus(t, "")
	sigs := b.bus.Signals(t, dbus.WithMatchObjectPath(wire.ObjectPath))
	f, err := os.CreateTemp(t.TempDir(), "bundle")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("signed bundle"); err != nil {
		t.Fatal(err)
	}
	if err := b.obj.Call(wire.Update1+".Install", 0, dbus.UnixFD(f.Fd())).Err; err != nil {
		t.Fatal(err)
	}
	if b.upd.lastRead() != "signed bundle" {
		t.Errorf("updater read %q", b.upd.lastRead())
	}
	var all map[string]dbus.Variant
	if err := b.obj.Call(propertiesIface+".GetAll", 0, wire.Update1).Store(&all); err != nil {
		t.Fatal(err)
	}
	var names []string
	for k := range all {
		names = append(names, k)
	}
	if diff := cmp.Diff(updatePropNames, names, sortStrings); diff != "" {
		t.Errorf("GetAll names (-want +got):\n%s", diff)
	}
	if all[wire.PropOperation].Value() != "idle" || all[wire.PropBootedSlot].Value() != "A" {
		t.Errorf("GetAll: %v", all)
	}

	b.upd.setStatus(func(s *updater.Status) {
		s.Operation, s.Progress = "writing", 40
		s.Slots[updater.SlotB] = updater.SlotInfo{State: updater.SlotEmpty}
	})
	waitSignal(t, sigs, "PropertiesChanged Progress=40", func(s *dbus.Signal) bool {
		if s.Name != propertiesIface+".PropertiesChanged" || s.Body[0] != wire.Update1 {
			return false
		}
		m, _ := s.Body[1].(map[string]dbus.Variant)
		return m[wire.PropProgress].Value() == int32(40) && m[wire.PropOperation].Value() == "writing"
	})
	b.upd.events <- updater.Event{Kind: wire.EventUpdateInstalled, Version: "2.0.0", Slot: updater.SlotB}
	sig := waitSignal(t, sigs, "Event update-installed", func(s *dbus.Signal) bool {
		return s.Name == wire.Lock1+"."+wire.Event && s.Body[0] == wire.EventUpdateInstalled
	})
	d, _ := sig.Body[1].(map[string]dbus.Variant)
	if d[wire.KeySource].Value() != wire.SourceUpdater || d[wire.KeyUID].Value() != int32(-1) ||
		!cmp.Equal(d[wire.KeyDetails].Value(), map[string]string{"version": "2.0.0", "boot_slot": "B"}) {
		t.Errorf("update-installed details %v", d)
	}
	b.codes.mu.Lock()
	var kinds []string
	for _, e := range b.codes.audit {
		kinds = append(kinds, fmt.Sprintf("%s %s %d", e.Kind, e.Source, e.UID))
	}
	b.codes.mu.Unlock()
	if diff := cmp.Diff([]string{"update-install dbus 0", "update-installed updater -1"}, kinds); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}

// TestUpdate1LockdChecksItself opens the policy to everyone: lockd still
// refuses Update1's methods to a caller outside lockd-admin, and audits.
func TestUpdate1LockdChecksItself(t *testing.T) {
	b := newUpdateBus(t, dbustest.OpenPolicy)
	for _, m := range []string{"Approve", "Reject"} {
		res := b.bus.Gdbus(t, dbustest.Unprivileged(), "call", "--dest", wire.BusName, "--object-path", string(wire.ObjectPath),
			"--method", wire.Update1+"."+m)
		if res.OK() || !strings.Contains(res.Stderr, wire.ErrAccessDenied+": "+wire.Update1+"."+m) {
			t.Errorf("nobody %s: %v %q", m, res.Err, res.Output())
		}
	}
	if got := b.upd.takeCalls(); len(got) != 0 {
		t.Errorf("denied calls reached the updater: %q", got)
	}
	b.codes.mu.Lock()
	defer b.codes.mu.Unlock()
	if len(b.codes.audit) != 2 || b.codes.audit[0].Kind != wire.EventAccessDenied || b.codes.audit[0].UID != dbustest.Nobody {
		t.Errorf("audit %+v, want two access-denied by uid %d", b.codes.audit, dbustest.Nobody)
	}
}

var sortStrings = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

// waitSignal returns the first signal that matches within 10 s.
func waitSignal(t *testing.T, ch <-chan *dbus.Signal, what string, match func(*dbus.Signal) bool) *dbus.Signal {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case s := <-ch:
			if len(s.Body) >= 2 && match(s) {
				return s
			}
		case <-deadline:
			t.Fatalf("no %s signal within 10 s", what)
			return nil
		}
	}
}

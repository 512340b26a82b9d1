package dbusapi

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"
	"github.com/google/go-cmp/cmp"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/lock"
	"lockd.dev/lockd/updater"
)

// TestHandlersRefuseNUL: D-Bus forbids NUL in strings and dbus-daemon
// drops such messages, but the handlers refuse them too, before the store.
func TestHandlersRefuseNUL(t *testing.T) {
	s, _, st := testService(t, caller{uid: 0})
	c := codes1{s}
	none := map[string]dbus.Variant{}
	errs := []*dbus.Error{
		c.SetAdminCode(message(wire.Codes1, "SetAdminCode", "1357\x0090"), "1357\x0090"),
	}
	_, err := c.Add(message(wire.Codes1, "Add", "x", "36\x0091", none), "x", "36\x0091", none)
	errs = append(errs, err)
	_, err = c.Add(message(wire.Codes1, "Add", "a\x00b", "3691", none), "a\x00b", "3691", none)
	errs = append(errs, err)
	for i, err := range errs {
		if err == nil || err.Name != wire.ErrInvalidArgs {
			t.Errorf("call %d: %v, want InvalidArgs", i, err)
		}
	}
	if len(st.calls) != 0 {
		t.Errorf("NUL arguments reached the store: %v", st.calls)
	}
}

// TestAllowedChangeIsAnnouncedAndRefreshes: an admin's change is made and
// handed to the lock core with the UID, which records it (its sink is the
// audit log) and re-reads the store; the service does not audit it again.
func TestAllowedChangeIsAnnouncedAndRefreshes(t *testing.T) {
	s, l, st := testService(t, caller{uid: 1000, gids: []uint32{990}, haveGIDs: true})
	opts := map[string]dbus.Variant{"kind": dbus.MakeVariant("one-time")}
	id, derr := codes1{s}.Add(message(wire.Codes1, "Add", "guest", "3691", opts), "guest", "3691", opts)
	if derr != nil || id != 7 {
		t.Fatalf("Add: %d, %v", id, derr)
	}
	ignoreTime := cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Time" }, cmp.Ignore())
	want := []lock.Event{{Kind: "code-added", Source: "dbus", CodeID: 7, CodeKind: "one-time", Slot: 1, UID: 1000}}
	if diff := cmp.Diff(want, l.announced, ignoreTime); diff != "" {
		t.Errorf("announced (-want +got):\n%s", diff)
	}
	if len(st.audit) != 0 {
		t.Errorf("the service audited the change itself too: %+v", st.audit)
	}
	if l.refreshes != 1 {
		t.Errorf("%d refreshes, want 1", l.refreshes)
	}
	// A core that does not take the change leaves the audit to the
	// service: recorded once, either way.
	l.announceErr = fmt.Errorf("%w: %w", lock.ErrNotAnnounced, context.DeadlineExceeded)
	st.list = []codes.Info{{ID: 7, Slot: 1, Kind: codes.KindOneTime}}
	if derr := (codes1{s}).Remove(message(wire.Codes1, "Remove", uint32(7)), 7); derr != nil {
		t.Fatalf("Remove: %v", derr)
	}
	wantAudit := []codes.AuditEvent{{Kind: "code-removed", Source: "dbus", CodeID: 7, CodeKind: "one-time", Slot: 1, UID: 1000}}
	if diff := cmp.Diff(wantAudit, st.audit, ignoreTime); diff != "" {
		t.Errorf("audit without the core (-want +got):\n%s", diff)
	}
	if derr := (lock1{s}).Unlock(message(wire.Lock1, "Unlock")); derr != nil || len(l.calls) != 1 || l.calls[0] != "unlock dbus 1000" {
		t.Errorf("Unlock: %v, lock saw %v", derr, l.calls)
	}
}

func TestStoreUnavailable(t *testing.T) {
	s, _, _ := testService(t, caller{uid: 0})
	s.cfg.Codes = nil
	c := codes1{s}
	if derr := c.ResetLockout(message(wire.Codes1, "ResetLockout")); derr == nil || derr.Name != wire.ErrUnavailable {
		t.Errorf("ResetLockout: %v, want %s", derr, wire.ErrUnavailable)
	}
	if _, derr := c.List(message(wire.Codes1, "List")); derr == nil || derr.Name != wire.ErrUnavailable {
		t.Errorf("List: %v, want %s", derr, wire.ErrUnavailable)
	}
	// A denial without a store is still a denial (and is logged).
	s.credentials = func(context.Context, string) (caller, error) { return caller{uid: 1000, haveGIDs: true}, nil }
	if derr := c.ResetLockout(message(wire.Codes1, "ResetLockout")); derr == nil || derr.Name != wire.ErrAccessDenied {
		t.Errorf("ResetLockout as uid 1000: %v, want AccessDenied", derr)
	}
}

func TestParseAddOptions(t *testing.T) {
	v := dbus.MakeVariant
	for _, c := range []struct {
		in   map[string]dbus.Variant
		want codes.AddOptions
	}{
		{nil, codes.AddOptions{Kind: codes.KindUser}},
		{map[string]dbus.Variant{"kind": v("duress")}, codes.AddOptions{Kind: codes.KindDuress}},
		{map[string]dbus.Variant{"kind": v("scheduled"), "weekdays": v("mon,fri"), "from": v("22:00"), "until": v("06:30")},
			codes.AddOptions{Kind: codes.KindScheduled, Weekdays: codes.Days(time.Monday, time.Friday), From: 22 * 60, Until: 6*60 + 30}},
		{map[string]dbus.Variant{"kind": v("scheduled"), "weekdays": v([]string{"sun", "sat"})},
			codes.AddOptions{Kind: codes.KindScheduled, Weekdays: codes.Days(time.Sunday, time.Saturday)}},
		{map[string]dbus.Variant{"kind": v("expiring"), "valid_from": v(uint64(1_700_000_000_000_000)), "valid_until": v(uint64(0))},
			codes.AddOptions{Kind: codes.KindExpiring, ValidFrom: time.UnixMicro(1_700_000_000_000_000)}},
		{map[string]dbus.Variant{"kind": v("limited"), "uses": v(uint32(3))}, codes.AddOptions{Kind: codes.KindLimited, Uses: 3}},
	} {
		got, derr := parseAddOptions(c.in)
		if derr != nil {
			t.Errorf("%v: %v", c.in, derr)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%v (-want +got):\n%s", c.in, diff)
		}
	}
}

// TestAddOptionErrors: a refused option is one sentence that names the
// key and what it wants, once, without the value sent.
func TestAddOptionErrors(t *testing.T) {
	v := dbus.MakeVariant
	for _, c := range []struct {
		in   map[string]dbus.Variant
		want string
	}{
		{map[string]dbus.Variant{"kind": v("weekly")},
			"option kind: want user, scheduled, expiring, one-time, limited, duress, non-access or after-first-use"},
		{map[string]dbus.Variant{"kind": v("scheduled"), "weekdays": v("mon,funday")},
			`option weekdays: want days of mon tue wed thu fri sat sun, as "mon,fri" or ["mon", "fri"]`},
		{map[string]dbus.Variant{"kind": v("scheduled"), "weekdays": v([]string{"mon", "funday"})},
			`option weekdays: want days of mon tue wed thu fri sat sun, as "mon,fri" or ["mon", "fri"]`},
		{map[string]dbus.Variant{"kind": v("scheduled"), "weekdays": v("mon"), "from": v("25:00")},
			"option from: want a time of day HH:MM, 00:00 to 23:59"},
	} {
		_, derr := parseAddOptions(c.in)
		if derr == nil {
			t.Errorf("%v: accepted", c.in)
			continue
		}
		if got := fmt.Sprint(derr.Body...); got != c.want || derr.Name != wire.ErrInvalidArgs {
			t.Errorf("%v: %s %q, want InvalidArgs %q", c.in, derr.Name, got, c.want)
		}
	}
}

func TestCodesErrorMapping(t *testing.T) {
	for err, want := range map[error]string{
		&codes.RuleError{Reason: codes.RuleCommon}: wire.ErrInvalidArgs,
		codes.ErrDuplicate:                         wire.ErrInvalidArgs,
		codes.ErrAmbiguous:                         wire.ErrInvalidArgs,
		codes.ErrNotFound:                          wire.ErrInvalidArgs,
		codes.ErrInvalid:                           wire.ErrInvalidArgs,
		codes.ErrUnprovisioned:                     wire.ErrUnprovisioned,
		codes.ErrFull:                              wire.ErrFull,
		codes.ErrClosed:                            wire.ErrUnavailable,
		errDisk:                                    wire.ErrFailed,
	} {
		if got := codesError(err); got.Name != want {
			t.Errorf("codesError(%v) = %s, want %s", err, got.Name, want)
		}
	}
}

var errDisk = &diskError{}

type diskError struct{}

func (*diskError) Error() string { return "codes: commit: disk I/O error" }

// TestSpecsMatchHandlers: the introspection declares exactly the methods
// the handlers have, with the types godbus derives from their Go
// signatures, every argument named.
func TestSpecsMatchHandlers(t *testing.T) {
	for _, o := range interfaces(nil, true, true) {
		got := map[string][]string{}
		for _, m := range introspect.Methods(o.handler) {
			for _, a := range m.Args {
				got[m.Name] = append(got[m.Name], a.Direction+" "+a.Type)
			}
			if got[m.Name] == nil {
				got[m.Name] = []string{}
			}
		}
		want := map[string][]string{}
		for _, m := range o.spec.Methods {
			want[m.Name] = []string{}
			for _, a := range m.Args {
				if a.Name == "" {
					t.Errorf("%s.%s: an argument has no name", o.spec.Name, m.Name)
				}
				want[m.Name] = append(want[m.Name], a.Direction+" "+a.Type)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: introspection vs handlers (-spec +handlers):\n%s", o.spec.Name, diff)
		}
	}
}

// TestNewTypedNil: the daemon's nil *codes.Store and *sim.Board arrive as
// non-nil interfaces; New treats them as absent.
func TestNewTypedNil(t *testing.T) {
	var store *codes.Store
	var board *sim.Board
	var upd *updater.Updater
	s, err := New(Config{Conn: new(dbus.Conn), Lock: &fakeLock{}, Codes: store, Sim: board, Updater: upd})
	if err != nil {
		t.Fatal(err)
	}
	if s.cfg.Codes != nil || s.cfg.Sim != nil || s.cfg.Updater != nil || len(s.objects()) != 3 {
		t.Errorf("typed nils kept: codes %v, sim %v, updater %v, %d interfaces", s.cfg.Codes, s.cfg.Sim, s.cfg.Updater, len(s.objects()))
	}
	var core *lock.Core
	if _, err := New(Config{Conn: new(dbus.Conn), Lock: core}); err == nil {
		t.Error("New with a nil *lock.Core: no error")
	}
}

// TestBackoff: waits double from 0.5 s to 30 s, each drawn from the upper
// half of its step, and start again after a success.
func TestBackoff(t *testing.T) {
	for _, c := range []struct {
		rand float64
		want []time.Duration
	}{
		{0, []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second,
			8 * time.Second, 15 * time.Second, 15 * time.Second}},
		{0.5, []time.Duration{375 * time.Millisecond, 750 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second,
			6 * time.Second, 12 * time.Second, 22500 * time.Millisecond, 22500 * time.Millisecond}},
	} {
		b := newBackoff()
		b.rand = func() float64 { return c.rand }
		var got []time.Duration
		for range c.want {
			got = append(got, b.next())
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("rand %v: waits (-want +got):\n%s", c.rand, diff)
		}
		b.reset()
		if d := b.next(); d != c.want[0] {
			t.Errorf("rand %v: after reset %v, want %v", c.rand, d, c.want[0])
		}
	}
}

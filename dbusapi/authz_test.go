package dbusapi

import (
	"context"
	"errors"
	"testing"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
)

func TestCheck(t *testing.T) {
	const admin = 990
	for _, c := range []struct {
		name      string
		caller    caller
		credErr   error
		userDB    []uint32 // the fallback's answer
		groupGone bool     // the admin group does not exist
		allowed   bool
	}{
		{name: "root", caller: caller{uid: 0, haveGIDs: true}, allowed: true},
		{name: "root, no admin group", caller: caller{uid: 0}, groupGone: true, allowed: true},
		{name: "admin by bus groups", caller: caller{uid: 1000, gids: []uint32{100, admin}, haveGIDs: true}, allowed: true},
		{name: "not admin by bus groups", caller: caller{uid: 1000, gids: []uint32{100}, haveGIDs: true}, userDB: []uint32{admin}},
		{name: "bus groups empty", caller: caller{uid: 1000, gids: []uint32{}, haveGIDs: true}, userDB: []uint32{admin}},
		{name: "no bus groups: user database says admin", caller: caller{uid: 1000}, userDB: []uint32{admin}, allowed: true},
		{name: "no bus groups: user database says not", caller: caller{uid: 1000}, userDB: []uint32{100}},
		{name: "admin group missing", caller: caller{uid: 1000, gids: []uint32{admin}, haveGIDs: true}, groupGone: true},
		{name: "credentials unknown", credErr: errors.New("no such name")},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, _, _ := testService(t, c.caller)
			s.credentials = func(context.Context, string) (caller, error) { return c.caller, c.credErr }
			s.userGroups = func(uint32) ([]uint32, error) { return c.userDB, nil }
			if c.groupGone {
				s.adminGroup = "no-such-group"
			}
			_, err := s.check(context.Background(), ":1.9")
			if (err == nil) != c.allowed {
				t.Errorf("check: %v, want allowed %v", err, c.allowed)
			}
		})
	}
}

// TestDeniedChangesNothing calls every mutating handler as a caller
// outside lockd-admin: AccessDenied, audited with the UID, and neither
// the lock nor the store is touched.
func TestDeniedChangesNothing(t *testing.T) {
	s, l, st := testService(t, caller{uid: 1000, gids: []uint32{1000}, haveGIDs: true})
	s.cfg.Sim = nil
	c := codes1{s}
	errs := map[string]*dbus.Error{
		"Lock":         lock1{s}.Lock(message(wire.Lock1, "Lock")),
		"Unlock":       lock1{s}.Unlock(message(wire.Lock1, "Unlock")),
		"SetAdminCode": c.SetAdminCode(message(wire.Codes1, "SetAdminCode", "246813"), "246813"),
		"Remove":       c.Remove(message(wire.Codes1, "Remove", uint32(1)), 1),
		"SetEnabled":   c.SetEnabled(message(wire.Codes1, "SetEnabled", uint32(1), true), 1, true),
		"ResetLockout": c.ResetLockout(message(wire.Codes1, "ResetLockout")),
	}
	opts := map[string]dbus.Variant{}
	_, errs["Add"] = c.Add(message(wire.Codes1, "Add", "x", "3691", opts), "x", "3691", opts)
	for name, err := range errs {
		if err == nil || err.Name != wire.ErrAccessDenied {
			t.Errorf("%s: %v, want AccessDenied", name, err)
		}
	}
	if len(l.calls) != 0 || len(st.calls) != 0 || l.refreshes != 0 {
		t.Errorf("denied calls reached the lock %v (%d refreshes) or the store %v", l.calls, l.refreshes, st.calls)
	}
	if len(st.audit) != len(errs) {
		t.Fatalf("%d denials audited, want %d", len(st.audit), len(errs))
	}
	for _, e := range st.audit {
		if e.Kind != wire.EventAccessDenied || e.UID != 1000 || e.Source != "dbus" || e.Reason == "" {
			t.Errorf("audited %+v", e)
		}
	}
}

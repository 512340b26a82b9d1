package dbusapi_test

import (
	"testing"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/lock"
	"lockd.dev/lockd/lock/locktest"
)

// TestCodeChangesAreLockEvents: a code added or removed over D-Bus is one
// of the lock core's events: its subscribers (the panel of make run) get
// it with the caller's UID, the audit log records it once, and one Event
// signal goes out.
func TestCodeChangesAreLockEvents(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.provision(t)
	events, stop := r.core.Subscribe(64)
	defer stop()
	sigs := r.lockSignals(t)

	var id uint32
	if err := r.obj.Call(wire.Codes1+".Add", 0, "guest", userCode, map[string]dbus.Variant{}).Store(&id); err != nil {
		t.Fatalf("Add: %v", err)
	}
	e := locktest.WaitEvent(t, events, lock.EventCodeAdded)
	if e.Source != lock.SourceDBus || e.UID != 0 || e.CodeID != int64(id) || e.Slot != 1 || e.CodeKind != "user" {
		t.Errorf("the core's code-added: %+v, want source dbus, uid 0, id %d, slot 1, kind user", e, id)
	}
	if err := r.obj.Call(wire.Codes1+".Remove", 0, id).Err; err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if e := locktest.WaitEvent(t, events, lock.EventCodeRemoved); e.Source != lock.SourceDBus || e.Slot != 1 {
		t.Errorf("the core's code-removed: %+v", e)
	}

	sigs.wait(t, "Event code-added", eventOf(lock.EventCodeAdded))
	sigs.wait(t, "Event code-removed", eventOf(lock.EventCodeRemoved))
	// Signals keep their order: a second code-added would be here by now.
	for _, s := range sigs.seen {
		if s != nil && eventOf(lock.EventCodeAdded)(s) {
			t.Errorf("code-added signalled twice: %v", s.Body)
		}
	}
	counts := map[string]int{}
	for _, le := range r.log(t) {
		counts[le.Details[wire.KeyKind].Value().(string)]++
	}
	if counts[lock.EventCodeAdded] != 1 || counts[lock.EventCodeRemoved] != 1 {
		t.Errorf("audit log: %d code-added, %d code-removed; want one each", counts[lock.EventCodeAdded], counts[lock.EventCodeRemoved])
	}
}

package dbusapi_test

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/internal/dbustest"
	"lockd.dev/lockd/lock"
)

// TestConcurrentCalls has many clients call at once (run it with -race):
// reads, lock and unlock, code changes, and, with the policy opened to
// everyone, calls lockd itself must deny. No unexpected error, and the
// end state is what the calls add up to.
func TestConcurrentCalls(t *testing.T) {
	r := newRig(t, rigOptions{extraPolicy: dbustest.OpenPolicy})
	r.setupCodes(t)
	const clients, calls, denied = 12, 30, 4
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		kept []string // labels of the codes that stay
	)
	errs := make(chan error, clients*calls+denied*5)
	for g := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			obj := r.bus.Conn(t).Object(wire.BusName, wire.ObjectPath)
			for i := range calls {
				var err error
				switch i % 6 {
				case 0:
					_, err = obj.GetProperty(wire.Lock1 + "." + wire.PropState)
				case 1:
					var list []codeEntry
					err = obj.Call(wire.Codes1+".List", 0).Store(&list)
				case 2:
					label := fmt.Sprintf("c%02d-%02d", g, i)
					var id uint32
					err = obj.Call(wire.Codes1+".Add", 0, label, fmt.Sprintf("8%02d%02d47", g, i), map[string]dbus.Variant{}).Store(&id)
					if err == nil && i%4 == 0 {
						err = obj.Call(wire.Codes1+".Remove", 0, id).Err
					} else if err == nil {
						mu.Lock()
						kept = append(kept, label)
						mu.Unlock()
					}
				case 3:
					method := ".Lock"
					if g%2 == 0 {
						method = ".Unlock"
					}
					err = obj.Call(wire.Lock1+method, 0).Err
				case 4:
					var log []logEntry
					err = obj.Call(wire.Codes1+".Log", 0, uint64(0), uint32(50)).Store(&log)
				case 5:
					var all map[string]dbus.Variant
					err = obj.Call("org.freedesktop.DBus.Properties.GetAll", 0, wire.Lock1).Store(&all)
				}
				if err != nil {
					errs <- fmt.Errorf("client %d call %d: %w", g, i, err)
				}
			}
		}()
	}
	for range denied {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				res := r.call(t, r.nobody(), wire.Lock1, "Unlock")
				if res.OK() || !strings.Contains(res.Stderr, "Access denied") {
					errs <- fmt.Errorf("nobody Unlock: %v %s", res.Err, res.Output())
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// The codes are the admin code, the first user code and those kept.
	var got []string
	for _, c := range r.list(t)[2:] {
		got = append(got, c.Label)
	}
	sort.Strings(got)
	sort.Strings(kept)
	if strings.Join(got, " ") != strings.Join(kept, " ") {
		t.Errorf("codes after the load:\n%v\nwant\n%v", got, kept)
	}
	denials := 0
	for _, e := range r.log(t) {
		if e.Details[wire.KeyKind].Value() == wire.EventAccessDenied {
			denials += auditCount(t, e)
		}
	}
	if denials != denied*5 {
		t.Errorf("%d denials audited, want %d", denials, denied*5)
	}
	// The lock still answers, and the properties agree with the core.
	sigs := r.lockSignals(t)
	r.mustCall(t, dbustest.Root, wire.Lock1, "Lock")
	if r.core.Status().State != lock.StateLocked {
		sigs.wait(t, "State=locked", changed(wire.PropState, "locked"))
	}
	if got := r.prop(t, wire.PropState); got != "locked" {
		t.Errorf("State = %v after Lock, want locked", got)
	}
}

package dbusapi_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/lock"
)

// fdCount is how many descriptors this process, where the service runs,
// holds.
func fdCount(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// fdSlack is how many descriptors the rest of the process (the store, the
// test's own clients) may open meanwhile: less than one call's worth.
const fdSlack = 8

// TestDescriptorFlood: a member of group lockd sends 300 GetAll calls
// with 16 descriptors each (4800, far past godbus's 1024-entry table on a
// unit). lockd closes every one of them, answers, and Install still takes
// the descriptor it is given.
func TestDescriptorFlood(t *testing.T) {
	r := newRig(t, rigOptions{})
	before := fdCount(t)
	if res := r.bus.Helper(t, r.reader(), "fdflood", "300", "16"); !res.OK() {
		t.Fatalf("flood: %v\n%s", res.Err, res.Output())
	}
	after := fdCount(t)
	t.Logf("descriptors: %d before 300 calls with 16 each, %d after", before, after)
	if after > before+fdSlack {
		t.Errorf("lockd holds %d descriptors after the flood, %d before: it keeps what callers send", after, before)
	}
	bundle, err := os.CreateTemp(t.TempDir(), "bundle")
	if err != nil {
		t.Fatal(err)
	}
	defer bundle.Close()
	if _, err := bundle.WriteString("not a bundle"); err != nil {
		t.Fatal(err)
	}
	err = r.obj.Call(wire.Update1+".Install", 0, dbus.UnixFD(bundle.Fd())).Err
	var de dbus.Error
	if !errors.As(err, &de) || de.Name != wire.ErrBundleRefused {
		t.Errorf("Install after the flood: %v, want %s (lockd read the file)", err, wire.ErrBundleRefused)
	}
}

// peakRSS resets this process's peak resident size (clear_refs 5) and
// returns a function that reads how far it rose since, in bytes.
func peakRSS(t *testing.T) func() int64 {
	t.Helper()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Fatalf("reset the peak RSS: %v", err)
	}
	base := procStatus(t, "VmRSS")
	return func() int64 { return procStatus(t, "VmHWM") - base }
}

// procStatus reads a kB field of /proc/self/status, in bytes.
func procStatus(t *testing.T, field string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			var kb int64
			if _, err := fmt.Sscan(v, &kb); err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// TestLargeBodies: four members of group lockd call Codes1.Log at once
// with 32 MB bodies. lockd reads none of them into memory: each caller
// gets LimitsExceeded, and lockd's peak resident size grows by less than
// one such body.
func TestLargeBodies(t *testing.T) {
	r := newRig(t, rigOptions{})
	const body = 32_000_000
	grown := peakRSS(t)
	var procs []interface {
		WaitLine(testing.TB, string) string
	}
	for range 4 {
		procs = append(procs, r.bus.SpawnHelper(t, r.reader(), "bigcall", fmt.Sprint(body)))
	}
	for _, p := range procs {
		p.WaitLine(t, wire.ErrLimitsExceeded)
	}
	g := grown()
	t.Logf("peak RSS rose by %.1f MiB under 4 calls of %d MB", float64(g)/(1<<20), body/1_000_000)
	if g > body {
		t.Errorf("peak RSS rose by %d bytes under 4 calls of %d bytes: lockd buffers what it refuses", g, body)
	}
	if got := r.prop(t, wire.PropState); got != "locked" {
		t.Errorf("State = %v after the attack", got)
	}
}

// nestedVariants encodes a v holding a v ... holding the string "user",
// depth variants deep, as godbus's encoder refuses to past 61.
func nestedVariants(depth int) []byte {
	var b []byte
	for range depth {
		b = append(b, 1, 'v', 0)
	}
	b = append(b, 1, 's', 0)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	b = binary.LittleEndian.AppendUint32(b, 4)
	return append(b, "user\x00"...)
}

// TestDeepNesting: bodies nested as deep as a client can make them get a
// clear refusal or are dropped by the bus; lockd never loses its
// connection over one (godbus drops its connection on a body it cannot
// decode, so one reaching it would cut lockd off) and keeps answering.
func TestDeepNesting(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.provision(t)
	owner := func() string {
		var o string
		if err := r.client.BusObject().Call("org.freedesktop.DBus.GetNameOwner", 0, wire.BusName).Store(&o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	first := owner()
	nested := func(depth int) dbus.Variant {
		v := dbus.MakeVariant("user")
		for range depth {
			v = dbus.MakeVariant(v)
		}
		return v
	}
	for _, depth := range []int{30, 60} {
		err := r.obj.Call(wire.Codes1+".Add", 0, "deep", "3691", map[string]dbus.Variant{"kind": nested(depth)}).Err
		var de dbus.Error
		if !errors.As(err, &de) || de.Name != wire.ErrInvalidArgs || !strings.Contains(fmt.Sprint(de.Body...), "option kind: want type s, got v") {
			t.Errorf("Add with kind nested %d deep: %v, want InvalidArgs naming the option", depth, err)
		}
		c := r.bus.Conn(t)
		err = c.Object(wire.BusName, wire.ObjectPath).Call("org.freedesktop.DBus.Properties.GetAll", 0, nested(depth)).Err
		if !errors.As(err, &de) || de.Name != wire.ErrInvalidArgs {
			t.Errorf("GetAll with a variant nested %d deep: %v, want InvalidArgs", depth, err)
		}
	}
	for _, depth := range []int{62, 63, 64, 65, 100, 1000} {
		c, err := dialRaw(r.bus.Address)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.sendBody("org.freedesktop.DBus.Properties.GetAll", nil, "v", nestedVariants(depth)); err != nil {
			t.Logf("depth %d: %v", depth, err) // the bus may drop a client that sent an invalid message
		}
		// A call after it on the same connection is answered after it
		// was handled, if the bus let the client stay.
		err = c.Object(wire.BusName, wire.ObjectPath).Call("org.freedesktop.DBus.Properties.Get", 0, wire.Lock1, wire.PropState).Err
		t.Logf("depth %d: the next call: %v", depth, err)
		c.Close()
	}
	if got := owner(); got != first {
		t.Errorf("lockd's connection changed from %s to %s: a nested body cut it off", first, got)
	}
	if got := r.prop(t, wire.PropState); got != "locked" {
		t.Errorf("State = %v after the nested calls", got)
	}
	if len(r.list(t)) != 1 {
		t.Errorf("codes after the nested calls: %v", r.list(t))
	}
}

// TestCallFlood: 50 connections of group lockd read as fast as lockd
// answers while a code is typed on the keypad. The keypad path does not
// wait for D-Bus: the code is granted during the flood. Afterwards lockd
// holds no more descriptors than before, and its peak resident size rose
// by a small part of the 128 MiB a unit gives it.
func TestCallFlood(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.setupCodes(t)
	events, stop := r.core.Subscribe(64)
	defer stop()
	fds, goroutines := fdCount(t), runtime.NumGoroutine()
	grown := peakRSS(t)
	flood := r.bus.SpawnHelper(t, r.reader(), "callflood", "50", "100")
	flood.WaitLine(t, "flooding")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.board.Press(ctx, userCode+"#"); err != nil {
		t.Fatal(err)
	}
	for e := range events {
		if e.Kind == lock.EventGranted {
			break
		}
		if e.Kind == lock.EventDenied {
			t.Fatalf("the code was denied during the flood: %+v", e)
		}
	}
	select {
	case <-flood.Done():
	default:
		t.Log("the code was granted while the flood ran")
	}
	<-flood.Done()
	if st := flood.Cmd.ProcessState; !st.Success() {
		t.Fatalf("flood: %v\n%s", st, flood.Stderr())
	}
	g := grown()
	t.Logf("after 50 x 100 calls: descriptors %d -> %d, goroutines %d -> %d, peak RSS +%.1f MiB",
		fds, fdCount(t), goroutines, runtime.NumGoroutine(), float64(g)/(1<<20))
	if n := fdCount(t); n > fds+fdSlack {
		t.Errorf("%d descriptors after the flood, %d before", n, fds)
	}
	// lockd.service caps lockd at 128 MiB (MemoryMax); 50 callers at
	// once must cost a small part of it.
	bound := int64(16 << 20)
	if raceEnabled {
		bound *= 6
	}
	if g > bound {
		t.Errorf("peak RSS rose by %d MiB under the flood, more than %d MiB", g>>20, bound>>20)
	}
}

package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
	"golang.org/x/sys/unix"
)

// bench measures key-to-bolt over the kernel's uAPI n times: from the
// falling edge of the last Wiegand bit of code to lockd's H-bridge line
// toward unlocked reading active, polled every benchPoll. Between rounds
// it waits for the bolt to settle at the unlocked end and locks it again
// over D-Bus. The times are the guest's clock on an emulated CPU.
func (w *world) bench(n int, code string) (string, error) {
	conn, err := dbus.ConnectSystemBus()
	if err != nil {
		return "", fmt.Errorf("e2e-guest: bench: %w", err)
	}
	defer conn.Close()
	lockd := conn.Object(lockdName, "/io/lockd/Lock1")
	unlock := w.motor[1]
	var lat []time.Duration
	var out strings.Builder
	for i := range n {
		if err := w.settle("locked", 10*time.Second); err != nil {
			return out.String(), err
		}
		t0, _, err := w.keys(code)
		if err != nil {
			return out.String(), err
		}
		if err := sched(unix.SCHED_NORMAL); err != nil {
			return out.String(), err
		}
		t1, ok := time.Time{}, false
		for deadline := t0.Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(benchPoll) {
			if v, err := readValue(unlock.f); err == nil && v != unlock.activeLow {
				t1, ok = time.Now(), true
				break
			}
		}
		if err := sched(unix.SCHED_FIFO); err != nil {
			return out.String(), err
		}
		if !ok {
			return out.String(), fmt.Errorf("e2e-guest: bench: round %d: the unlock line never went active", i+1)
		}
		lat = append(lat, t1.Sub(t0))
		fmt.Fprintf(&out, "E2E-BENCH-ROUND %d %d\n", i+1, t1.Sub(t0).Microseconds())
		if err := w.settle("unlocked", 10*time.Second); err != nil {
			return out.String(), err
		}
		if c := lockd.Call("io.lockd.Lock1.Lock", 0); c.Err != nil {
			return out.String(), fmt.Errorf("e2e-guest: bench: Lock: %w", c.Err)
		}
	}
	slices.Sort(lat)
	q := func(p float64) int64 { return lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds() }
	fmt.Fprintf(&out, "E2E-BENCH n=%d median_us=%d p90_us=%d max_us=%d min_us=%d", len(lat), q(0.5), q(0.9), lat[len(lat)-1].Microseconds(), lat[0].Microseconds())
	return out.String(), nil
}

// benchPoll is how often bench reads the unlock line: its resolution.
const benchPoll = 500 * time.Microsecond

// settle waits until the bolt rests at end with the motor off.
func (w *world) settle(end string, timeout time.Duration) error {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		w.mu.Lock()
		ok := w.where() == end && !w.motor[0].on && !w.motor[1].on
		w.mu.Unlock()
		if ok {
			return nil
		}
	}
	return fmt.Errorf("e2e-guest: bench: the bolt did not come to rest %s", end)
}

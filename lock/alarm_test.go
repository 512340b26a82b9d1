package lock_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/internal/codeslink"
	"lockd.dev/lockd/lock"
	"lockd.dev/lockd/lock/locktest"
)

func (r *modeRig) alarms() []lock.Alarm { return r.c.Status().Alarms }

// alarmEvents is kinds with the alarm named.
func alarmEvents(t *testing.T, c *lock.Core, f func()) []string {
	t.Helper()
	ev, stop := c.Subscribe(256)
	f()
	stop()
	var k []string
	for e := range ev {
		switch e.Kind {
		case lock.EventAlarm, lock.EventAlarmCleared, lock.EventAlarmAcknowledged:
			k = append(k, e.Kind+":"+e.Reason)
		}
	}
	return k
}

// TestForcedOpen: the door opening on a locked bolt raises forced-open,
// sounds the alarm and moves nothing; it stays listed after the door
// closes, across a restart, until acknowledged.
func TestForcedOpen(t *testing.T) {
	r := newModeRig(t, nil)
	got := alarmEvents(t, r.c, func() { r.c.StepDoor(true) })
	if d := cmp.Diff([]string{"alarm:forced-open"}, got); d != "" {
		t.Errorf("door forced (-want +got):\n%s", d)
	}
	if l, u := r.bolt.Counts(); l+u != 0 {
		t.Fatalf("a forced door moved the bolt: %d locks, %d unlocks", l, u)
	}
	if !contains(patternNames(r.ind.shown), "alarm") || r.ind.bg != gpio.PatternAlarmActive {
		t.Errorf("shown %v, background %v; want the alarm, then alarm-active", r.ind.shown, r.ind.bg)
	}
	r.c.StepDoor(false)
	r.restart(t)
	if d := cmp.Diff([]lock.Alarm{lock.AlarmForcedOpen}, r.alarms()); d != "" {
		t.Fatalf("alarms after the door closed and a restart (-want +got):\n%s", d)
	}
	got = alarmEvents(t, r.c, func() {
		if err := r.c.StepAck(lock.AlarmForcedOpen, lock.SourceDBus, 0); err != nil {
			t.Fatal(err)
		}
	})
	if d := cmp.Diff([]string{"alarm-acknowledged:forced-open"}, got); d != "" {
		t.Errorf("ack (-want +got):\n%s", d)
	}
	if len(r.alarms()) != 0 || len(r.states.Names()) != 0 || r.ind.bg != gpio.PatternIdle {
		t.Errorf("after the ack: listed %v, stored %v, background %v", r.alarms(), r.states.Names(), r.ind.bg)
	}
}

func patternNames(ps []gpio.Pattern) []string {
	var n []string
	for _, p := range ps {
		n = append(n, p.String())
	}
	return n
}

// TestNotForced: a door opened after a grant, or after a thumb turn the
// poll has not seen yet, is no forced door.
func TestNotForced(t *testing.T) {
	r := newModeRig(t, nil)
	r.c.StepKeys("2580#")
	r.c.StepDoor(true)
	r.c.StepDoor(false)
	r.c.StepKeys("#")
	r.bolt.Pos = gpio.PosUnlocked // a thumb turn, not polled yet
	r.c.StepDoor(true)
	if len(r.alarms()) != 0 {
		t.Errorf("alarms %v for doors opened by right", r.alarms())
	}
}

// TestAjar: an alarm after door_ajar; acknowledged while the door stays
// open it stays listed (silenced) and leaves when the door closes; not
// acknowledged, it stays listed after the door closed.
func TestAjar(t *testing.T) {
	r := newModeRig(t, nil)
	r.c.StepKeys("2580#")
	r.c.StepDoor(true)
	r.clk.Advance(59 * time.Second)
	r.c.StepTimers()
	if len(r.alarms()) != 0 {
		t.Fatalf("ajar before door_ajar: %v", r.alarms())
	}
	got := alarmEvents(t, r.c, func() { r.clk.Advance(time.Second); r.c.StepTimers() })
	if d := cmp.Diff([]string{"alarm:ajar"}, got); d != "" {
		t.Errorf("ajar (-want +got):\n%s", d)
	}
	if err := r.c.StepAck(lock.AlarmAjar, lock.SourceDBus, 0); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]lock.Alarm{lock.AlarmAjar}, r.alarms()); d != "" || r.ind.bg == gpio.PatternAlarmActive {
		t.Errorf("acknowledged while open: listed %v (want ajar), background %v (want silent)", r.alarms(), r.ind.bg)
	}
	if err := r.c.StepAck(lock.AlarmAjar, lock.SourceDBus, 0); err != nil {
		t.Errorf("acknowledging again: %v", err)
	}
	got = alarmEvents(t, r.c, func() { r.c.StepDoor(false) })
	if d := cmp.Diff([]string{"alarm-cleared:ajar"}, got); d != "" || len(r.alarms()) != 0 {
		t.Errorf("door closed: events (-want +got):\n%s listed %v", d, r.alarms())
	}

	r.c.StepDoor(true)
	r.clk.Advance(time.Minute)
	r.c.StepTimers()
	r.c.StepDoor(false)
	if d := cmp.Diff([]lock.Alarm{lock.AlarmAjar}, r.alarms()); d != "" {
		t.Errorf("unacknowledged ajar after the door closed (-want +got):\n%s", d)
	}
}

// TestTamperAcrossRestarts: tamper raised once; a restart with the case
// still open adopts it without a second alarm, keeps an acknowledgement,
// and the alarm ends with the case closed.
func TestTamperAcrossRestarts(t *testing.T) {
	tamper := &fakeInput{}
	r := newModeRig(t, func(c *lock.Config) { c.Tamper = tamper })
	got := alarmEvents(t, r.c, func() { tamper.on = true; r.c.StepInput(lock.AlarmTamper, true) })
	if d := cmp.Diff([]string{"alarm:tamper"}, got); d != "" {
		t.Errorf("tamper (-want +got):\n%s", d)
	}
	if err := r.c.StepAck(lock.AlarmTamper, lock.SourceKeypad, -1); err != nil {
		t.Fatal(err)
	}
	var restarted []string
	ev, stop := r.c.Subscribe(16)
	r.restart(t)
	stop()
	for e := range ev {
		restarted = append(restarted, e.Kind)
	}
	if len(restarted) != 0 || !contains(alarmNames(r.alarms()), "tamper") || r.ind.bg == gpio.PatternAlarmActive {
		t.Errorf("after a restart: events %v, listed %v, background %v; want tamper listed, acknowledged, no new alarm",
			restarted, r.alarms(), r.ind.bg)
	}
	tamper.on = false
	got = alarmEvents(t, r.c, func() { r.c.StepInput(lock.AlarmTamper, false) })
	if d := cmp.Diff([]string{"alarm-cleared:tamper"}, got); d != "" || len(r.alarms()) != 0 || len(r.states.Names()) != 0 {
		t.Errorf("case closed: events (-want +got):\n%s listed %v, stored %v", d, r.alarms(), r.states.Names())
	}
}

func alarmNames(as []lock.Alarm) []string {
	var n []string
	for _, a := range as {
		n = append(n, string(a))
	}
	return n
}

// TestJammedAndWrongEntryAlarms: a jam and a lockout raise their alarms,
// which end with their condition and stay listed until acknowledged.
func TestJammedAndWrongEntryAlarms(t *testing.T) {
	r := newModeRig(t, nil)
	r.bolt.Jam = true
	r.c.StepKeys("2580#")
	if d := cmp.Diff([]lock.Alarm{lock.AlarmJammed}, r.alarms()); d != "" {
		t.Fatalf("after a jam (-want +got):\n%s", d)
	}
	r.bolt.Jam = false
	got := alarmEvents(t, r.c, func() { r.c.StepKeys("#") })
	if d := cmp.Diff([]string{"alarm-cleared:jammed"}, got); d != "" {
		t.Errorf("bolt freed (-want +got):\n%s", d)
	}
	r.c.StepKeys("1111#1112#1113#1114#1115#")
	if d := cmp.Diff([]lock.Alarm{lock.AlarmJammed, lock.AlarmWrongEntryLimit}, r.alarms()); d != "" {
		t.Fatalf("after a lockout (-want +got):\n%s", d)
	}
	r.clk.Advance(30 * time.Second)
	r.c.StepTimers()
	for _, a := range []lock.Alarm{lock.AlarmJammed, lock.AlarmWrongEntryLimit} {
		if err := r.c.StepAck(a, lock.SourceDBus, 0); err != nil {
			t.Fatal(err)
		}
	}
	if len(r.alarms()) != 0 {
		t.Errorf("listed %v after both were acknowledged", r.alarms())
	}
}

// TestKeypadAcknowledgesAlarms: "8 #" in programming mode acknowledges
// every listed alarm.
func TestKeypadAcknowledgesAlarms(t *testing.T) {
	r := newModeRig(t, nil)
	r.c.StepDoor(true)
	r.c.StepDoor(false)
	got := alarmEvents(t, r.c, func() { r.c.StepKeys("*135790#8##") })
	if d := cmp.Diff([]string{"alarm-acknowledged:forced-open"}, got); d != "" || len(r.alarms()) != 0 {
		t.Errorf("8 # (-want +got):\n%s listed %v", d, r.alarms())
	}
}

func TestAcknowledgeRefusals(t *testing.T) {
	r := newModeRig(t, nil)
	if err := r.c.StepAck("smoke", lock.SourceDBus, 0); !errors.Is(err, lock.ErrBadAlarm) ||
		!strings.Contains(err.Error(), "forced-open, ajar, tamper, jammed, wrong-entry-limit, power") {
		t.Errorf("unknown alarm: %v, want ErrBadAlarm listing the alarms", err)
	}
	if err := r.c.StepAck(lock.AlarmTamper, lock.SourceDBus, 0); !errors.Is(err, lock.ErrNotActive) {
		t.Errorf("alarm not listed: %v, want ErrNotActive", err)
	}
	r.c.StepDoor(true)
	r.states.Err = errors.New("disk gone")
	if err := r.c.StepAck(lock.AlarmForcedOpen, lock.SourceDBus, 0); err == nil || len(r.alarms()) != 1 {
		t.Errorf("ack the store cannot keep: %v, listed %v; want an error and the alarm kept", err, r.alarms())
	}
}

// fakeInput is an alarm input the test sets (StepInput delivers changes
// to a primed core; Run delivers them to a running one).
type fakeInput struct {
	on      bool
	changes chan bool
}

func (f *fakeInput) Alarm() bool { return f.on }
func (f *fakeInput) Run(ctx context.Context, out chan<- bool) error {
	out <- f.on
	for {
		select {
		case <-ctx.Done():
			return nil
		case v := <-f.changes:
			out <- v
		}
	}
}

// TestAlarmInputsThroughRun: the tamper and power inputs reach a running
// core through their own goroutines.
func TestAlarmInputsThroughRun(t *testing.T) {
	tamper, power := &fakeInput{changes: make(chan bool)}, &fakeInput{changes: make(chan bool)}
	c, err := lock.New(lock.Config{Keypad: nopKeypad{}, Bolt: &locktest.Bolt{Pos: gpio.PosLocked},
		Codes: locktest.NewCodes("135790"), States: locktest.NewStates(), Tamper: tamper, Power: power, Log: discard()})
	if err != nil {
		t.Fatal(err)
	}
	events, stop := c.Subscribe(64)
	defer stop()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	power.changes <- true
	if e := locktest.WaitEvent(t, events, lock.EventAlarm); e.Reason != string(lock.AlarmPower) || e.Source != lock.SourcePower {
		t.Errorf("power lost: %+v", e)
	}
	tamper.changes <- true
	if e := locktest.WaitEvent(t, events, lock.EventAlarm); e.Reason != string(lock.AlarmTamper) {
		t.Errorf("tamper: %+v", e)
	}
	if err := c.AcknowledgeAlarm(ctx, lock.AlarmPower, lock.SourceDBus, 0); err != nil {
		t.Fatal(err)
	}
	power.changes <- false
	locktest.WaitEvent(t, events, lock.EventAlarmCleared)
	if err := c.SetOperatingMode(ctx, lock.ModeNoRemote, lock.SourceDBus, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.Unlock(ctx, lock.SourceDBus, 0); !errors.Is(err, lock.ErrOperatingMode) {
		t.Errorf("Unlock in no-remote through Run: %v", err)
	}
	if d := cmp.Diff([]lock.Alarm{lock.AlarmTamper}, c.Status().Alarms); d != "" {
		t.Errorf("listed (-want +got):\n%s", d)
	}
}

// TestModesAndAlarmsOnRealStore: the code store keeps the mode and the
// alarms for a new core, as after a restart.
func TestModesAndAlarmsOnRealStore(t *testing.T) {
	dir := t.TempDir()
	if _, err := codes.FactoryInit(dir, false); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	door := &fakeDoor{}
	bolt := &locktest.Bolt{Pos: gpio.PosLocked}
	boot := func() (*lock.Core, *codes.Store) {
		store, err := codes.Open(ctx, codes.Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		c, err := lock.New(lock.Config{Keypad: nopKeypad{}, Bolt: bolt, Codes: codeslink.Codes{Store: store},
			States: codeslink.States{Store: store}, Door: door, Log: discard(), Sink: codeslink.AuditSink(ctx, store, nil)})
		if err != nil {
			t.Fatal(err)
		}
		c.Prime(ctx)
		return c, store
	}
	c, store := boot()
	if err := c.StepMode(lock.ModePrivacy, lock.SourceDBus, 0); err != nil {
		t.Fatal(err)
	}
	c.StepDoor(true)
	c.StepDoor(false)
	door.open = false
	store.Close()
	c, store = boot()
	defer store.Close()
	st := c.Status()
	if st.OperatingMode != lock.ModePrivacy || len(st.Alarms) != 1 || st.Alarms[0] != lock.AlarmForcedOpen {
		t.Errorf("after a restart on the real store: mode %q, alarms %v", st.OperatingMode, st.Alarms)
	}
	log, err := store.Log(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var audited []string
	for _, e := range log {
		if strings.HasPrefix(e.Kind, "alarm") || e.Kind == lock.EventOperatingMode {
			audited = append(audited, e.Kind+":"+e.Reason)
		}
	}
	if d := cmp.Diff([]string{"operating-mode:privacy", "alarm:forced-open"}, audited); d != "" {
		t.Errorf("audit log (-want +got):\n%s", d)
	}
}

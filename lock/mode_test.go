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
	"lockd.dev/lockd/internal/clock/clocktest"
	"lockd.dev/lockd/internal/codeslink"
	"lockd.dev/lockd/lock"
	"lockd.dev/lockd/lock/locktest"
)

// modeRig is a core with a door, a 30 s auto-relock, LEDs and a state
// store, driven synchronously.
type modeRig struct {
	c      *lock.Core
	bolt   *locktest.Bolt
	codes  *locktest.Codes
	states *locktest.States
	door   *fakeDoor
	ind    *fakeIndicator
	clk    *clocktest.Fake
	cfg    lock.Config
}

func newModeRig(t *testing.T, mod func(*lock.Config)) *modeRig {
	t.Helper()
	r := &modeRig{bolt: &locktest.Bolt{Pos: gpio.PosLocked}, codes: locktest.NewCodes("135790", "2580"),
		states: locktest.NewStates(), door: &fakeDoor{}, ind: &fakeIndicator{},
		clk: clocktest.NewFake(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))}
	r.cfg = lock.Config{Keypad: nopKeypad{}, Bolt: r.bolt, Codes: r.codes, States: r.states, Door: r.door,
		Indicator: r.ind, DoorGuard: true, AutoRelock: 30 * time.Second, DoorAjar: time.Minute, Clock: r.clk, Log: discard()}
	if mod != nil {
		mod(&r.cfg)
	}
	r.restart(t)
	return r
}

// restart builds a new core on the same hardware and stores, as a
// restart of lockd would.
func (r *modeRig) restart(t *testing.T) {
	t.Helper()
	c, err := lock.New(r.cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.Prime(context.Background())
	r.c = c
}

func (r *modeRig) mode() lock.OperatingMode { return r.c.Status().OperatingMode }

func TestOperatingModeDefaultsToNormalAndIsKept(t *testing.T) {
	r := newModeRig(t, nil)
	if r.mode() != lock.ModeNormal {
		t.Fatalf("fresh lock in mode %q, want normal", r.mode())
	}
	got := kinds(t, r.c, func() {
		if err := r.c.StepMode(lock.ModeVacation, lock.SourceDBus, 0); err != nil {
			t.Fatal(err)
		}
	})
	if d := cmp.Diff([]string{"operating-mode"}, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	if r.states.Mode != "vacation" {
		t.Errorf("stored mode %q when SetOperatingMode returned, want vacation", r.states.Mode)
	}
	r.restart(t)
	if r.mode() != lock.ModeVacation {
		t.Errorf("mode %q after a restart, want vacation", r.mode())
	}
	if r.ind.bg != gpio.PatternVacation {
		t.Errorf("background %v in vacation mode", r.ind.bg)
	}
	// The same mode again is no change: no event, no write.
	writes := r.states.Writes
	if got := kinds(t, r.c, func() { r.c.StepMode(lock.ModeVacation, lock.SourceDBus, 0) }); len(got) != 0 || r.states.Writes != writes {
		t.Errorf("setting the mode it has: events %v, %d writes", got, r.states.Writes-writes)
	}
}

func TestUnknownModeChangesNothing(t *testing.T) {
	r := newModeRig(t, nil)
	writes := r.states.Writes
	err := r.c.StepMode("holiday", lock.SourceDBus, 0)
	if !errors.Is(err, lock.ErrBadMode) || !strings.Contains(err.Error(), "normal, vacation, privacy, no-remote, passage") {
		t.Errorf("unknown mode: %v, want ErrBadMode listing the modes", err)
	}
	if r.mode() != lock.ModeNormal || r.states.Writes != writes {
		t.Errorf("an unknown mode changed something: mode %q, %d writes", r.mode(), r.states.Writes-writes)
	}
}

func TestModeNotKeptIsNotTaken(t *testing.T) {
	r := newModeRig(t, nil)
	r.states.Err = errors.New("disk gone")
	if err := r.c.StepMode(lock.ModePrivacy, lock.SourceDBus, 0); err == nil || r.mode() != lock.ModeNormal {
		t.Errorf("a store that cannot keep the mode: err %v, mode %q; want an error and normal", err, r.mode())
	}
	r2 := newModeRig(t, func(c *lock.Config) { c.States = nil })
	if err := r2.c.StepMode(lock.ModeVacation, lock.SourceDBus, 0); !errors.Is(err, lock.ErrNoStateStore) {
		t.Errorf("no state store: %v, want ErrNoStateStore", err)
	}
}

// TestPrivacy: entered only with the bolt locked; then no code opens and
// none is even checked, D-Bus Unlock is refused even for root, Lock
// works, the admin code still reaches programming mode where "9 0 #"
// leaves privacy, and a thumb turn from inside ends it too.
func TestPrivacy(t *testing.T) {
	r := newModeRig(t, nil)
	r.c.StepKeys("2580#")
	if err := r.c.StepMode(lock.ModePrivacy, lock.SourceDBus, 0); !errors.Is(err, lock.ErrNotLocked) || r.mode() != lock.ModeNormal {
		t.Fatalf("privacy with the bolt unlocked: %v, mode %q", err, r.mode())
	}
	r.c.StepKeys("#")
	if err := r.c.StepMode(lock.ModePrivacy, lock.SourceDBus, 0); err != nil {
		t.Fatal(err)
	}
	if r.ind.bg != gpio.PatternPrivacy {
		t.Errorf("background %v in privacy mode", r.ind.bg)
	}
	checked := len(r.codes.Verified)
	_, unlocks := r.bolt.Counts()
	got := kinds(t, r.c, func() {
		r.c.StepKeys("2580#")
		if err := r.c.StepCommand(false, lock.SourceDBus, 0); !errors.Is(err, lock.ErrOperatingMode) {
			t.Errorf("D-Bus Unlock in privacy: %v, want ErrOperatingMode", err)
		}
		if err := r.c.StepCommand(true, lock.SourceDBus, 0); err != nil {
			t.Errorf("D-Bus Lock in privacy: %v", err)
		}
	})
	if d := cmp.Diff([]string{"denied:privacy", "command-refused"}, got); d != "" {
		t.Errorf("events in privacy (-want +got):\n%s", d)
	}
	if len(r.codes.Verified) != checked {
		t.Error("privacy mode checked an entry with the store")
	}
	if _, u := r.bolt.Counts(); u != unlocks {
		t.Fatal("privacy mode unlocked the bolt")
	}
	got = kinds(t, r.c, func() { r.c.StepKeys("*135790#90#") })
	if d := cmp.Diff([]string{"programming", "operating-mode"}, got); d != "" {
		t.Errorf("leaving privacy in programming mode (-want +got):\n%s", d)
	}
	if r.mode() != lock.ModeNormal {
		t.Fatalf("mode %q after 9 0 #", r.mode())
	}
	r.c.StepKeys("#") // leave programming mode
	r.c.StepKeys("*135790#92##")
	if r.mode() != lock.ModePrivacy {
		t.Fatalf("mode %q after 9 2 #", r.mode())
	}
	// A thumb turn from inside.
	r.bolt.Pos = gpio.PosUnlocked
	got = kinds(t, r.c, func() { r.c.StepPoll() })
	if d := cmp.Diff([]string{"position-changed", "operating-mode"}, got); d != "" {
		t.Errorf("thumb turn in privacy (-want +got):\n%s", d)
	}
	if r.mode() != lock.ModeNormal || r.states.Mode != "normal" {
		t.Errorf("after a thumb turn: mode %q, stored %q; want normal", r.mode(), r.states.Mode)
	}
}

// TestPrivacyEndsWhenTheBoltWasUnlockedMeanwhile: the rule that a manual
// unlock ends privacy holds across a restart.
func TestPrivacyEndsWhenTheBoltWasUnlockedMeanwhile(t *testing.T) {
	r := newModeRig(t, nil)
	if err := r.c.StepMode(lock.ModePrivacy, lock.SourceDBus, 0); err != nil {
		t.Fatal(err)
	}
	r.bolt.Pos = gpio.PosUnlocked // turned while lockd was down
	r.restart(t)
	if r.mode() != lock.ModeNormal {
		t.Errorf("mode %q after a restart with the bolt unlocked, want normal", r.mode())
	}
}

// TestPassage: entering it unlocks; nothing relocks however long; a lock
// command (D-Bus or "#") locks and returns to normal; leaving it for
// another mode restarts the auto-relock.
func TestPassage(t *testing.T) {
	r := newModeRig(t, nil)
	got := kinds(t, r.c, func() {
		if err := r.c.StepMode(lock.ModePassage, lock.SourceDBus, 0); err != nil {
			t.Fatal(err)
		}
	})
	if d := cmp.Diff([]string{"operating-mode", "unlocking", "unlocked"}, got); d != "" {
		t.Errorf("entering passage (-want +got):\n%s", d)
	}
	r.clk.Advance(8 * time.Hour)
	r.c.StepTimers()
	if st := r.c.Status(); st.State != lock.StateUnlocked || !st.RelockAt.IsZero() {
		t.Fatalf("passage relocked or counts down: %q, relock at %v", st.State, st.RelockAt)
	}
	if r.ind.bg != gpio.PatternPassage {
		t.Errorf("background %v in passage mode", r.ind.bg)
	}
	got = kinds(t, r.c, func() { r.c.StepKeys("#") })
	if d := cmp.Diff([]string{"operating-mode", "locking", "locked"}, got); d != "" {
		t.Errorf("# in passage (-want +got):\n%s", d)
	}
	if r.mode() != lock.ModeNormal {
		t.Errorf("mode %q after a lock, want normal", r.mode())
	}

	r.c.StepMode(lock.ModePassage, lock.SourceDBus, 0)
	if err := r.c.StepCommand(true, lock.SourceDBus, 0); err != nil || r.mode() != lock.ModeNormal {
		t.Errorf("D-Bus Lock in passage: %v, mode %q; want locked, normal", err, r.mode())
	}

	r.c.StepMode(lock.ModePassage, lock.SourceDBus, 0)
	r.c.StepMode(lock.ModeVacation, lock.SourceDBus, 0)
	r.clk.Advance(30 * time.Second)
	r.c.StepTimers()
	if r.c.Status().State != lock.StateLocked {
		t.Errorf("state %q 30 s after leaving passage, want the auto-relock", r.c.Status().State)
	}
}

// TestNoRemote: D-Bus Lock and Unlock are refused for every caller (root
// too), the keypad works, and an admin can still change the mode.
func TestNoRemote(t *testing.T) {
	r := newModeRig(t, nil)
	if err := r.c.StepMode(lock.ModeNoRemote, lock.SourceDBus, 0); err != nil {
		t.Fatal(err)
	}
	for _, lockIt := range []bool{false, true} {
		if err := r.c.StepCommand(lockIt, lock.SourceDBus, 0); !errors.Is(err, lock.ErrOperatingMode) ||
			!strings.Contains(err.Error(), "no-remote") {
			t.Errorf("D-Bus command (lock %t) in no-remote: %v", lockIt, err)
		}
	}
	if l, u := r.bolt.Counts(); l+u != 0 {
		t.Fatal("no-remote moved the bolt on a D-Bus command")
	}
	r.c.StepKeys("2580#")
	if r.c.Status().State != lock.StateUnlocked {
		t.Error("the keypad does not open in no-remote mode")
	}
	if r.ind.bg != gpio.PatternNoRemote {
		t.Errorf("background %v in no-remote mode", r.ind.bg)
	}
	if err := r.c.StepMode(lock.ModeNormal, lock.SourceDBus, 0); err != nil {
		t.Errorf("leaving no-remote over D-Bus: %v", err)
	}
}

// TestKeypadModeCommand: "9 N #" takes Matter's enum values; anything
// else is refused and changes nothing.
func TestKeypadModeCommand(t *testing.T) {
	for _, tc := range []struct {
		keys string
		want lock.OperatingMode
		ev   string
	}{
		{"*135790#90#", lock.ModeNormal, ""},
		{"*135790#91#", lock.ModeVacation, "operating-mode"},
		{"*135790#92#", lock.ModePrivacy, "operating-mode"},
		{"*135790#93#", lock.ModeNoRemote, "operating-mode"},
		{"*135790#94#", lock.ModePassage, "operating-mode"},
		{"*135790#95#", lock.ModeNormal, "refused:bad-mode"},
		{"*135790#912#", lock.ModeNormal, "refused:bad-mode"},
		{"*135790#9#", lock.ModeNormal, "refused:bad-mode"},
		{"2580#*135790#92#", lock.ModeNormal, "refused:not-locked"},
	} {
		r := newModeRig(t, nil)
		got := kinds(t, r.c, func() { r.c.StepKeys(tc.keys) })
		if r.mode() != tc.want {
			t.Errorf("%s: mode %q, want %q", tc.keys, r.mode(), tc.want)
		}
		if tc.ev != "" && (len(got) == 0 || !contains(got, tc.ev)) {
			t.Errorf("%s: events %v, want %s", tc.keys, got, tc.ev)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestPrivacyRefusesCardsUnseen: in privacy mode a card that would open
// is refused like a code, without the store looking at it or counting it.
func TestPrivacyRefusesCardsUnseen(t *testing.T) {
	r := newAttackRig(t)
	ctx := context.Background()
	if _, err := r.store.EnrolCard(ctx, 0, codes.Card(rigCard), r.clk.Now()); err != nil {
		t.Fatal(err)
	}
	c := storeCore(t, r)
	if err := c.StepMode(lock.ModePrivacy, lock.SourceDBus, 0); err != nil {
		t.Fatal(err)
	}
	left, _ := r.store.WrongEntriesLeft(ctx, r.clk.Now())
	got := kinds(t, c, func() {
		for range 10 {
			c.StepCard(&rigCard, nil)
		}
	})
	if len(got) != 10 || got[0] != "denied:privacy" || got[9] != "denied:privacy" {
		t.Errorf("cards in privacy: %v", got)
	}
	if now, _ := r.store.WrongEntriesLeft(ctx, r.clk.Now()); now != left || c.Status().State != lock.StateLocked {
		t.Errorf("privacy refusals counted (%d wrong entries left, %d before) or opened (%s)", now, left, c.Status().State)
	}
}

// TestVacationOnRealStore: in vacation mode the store refuses the codes
// of users not marked for it like a wrong code (counted, red), and the
// marked ones open.
func TestVacationOnRealStore(t *testing.T) {
	r := newAttackRig(t)
	ctx := context.Background()
	if _, err := r.store.Add(ctx, "sitter", "97531", codes.AddOptions{Kind: codes.KindUser, Vacation: true}); err != nil {
		t.Fatal(err)
	}
	c := storeCore(t, r)
	if err := c.StepMode(lock.ModeVacation, lock.SourceDBus, 0); err != nil {
		t.Fatal(err)
	}
	got := kinds(t, c, func() { c.StepKeys(rigUser + "#"); c.StepKeys("97531#") })
	if d := cmp.Diff([]string{"denied:vacation", "granted", "unlocking", "unlocked"}, got); d != "" {
		t.Errorf("vacation mode (-want +got):\n%s", d)
	}
}

// storeCore is a primed core on the attack rig's store, which also keeps
// its mode and alarms.
func storeCore(t *testing.T, r *attackRig) *lock.Core {
	t.Helper()
	c, err := lock.New(lock.Config{Keypad: nopKeypad{}, Bolt: r.bolt, Codes: codeslink.Codes{Store: r.store},
		States: codeslink.States{Store: r.store}, Clock: r.clk, Log: discard()})
	if err != nil {
		t.Fatal(err)
	}
	c.Prime(context.Background())
	return c
}

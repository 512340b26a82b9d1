package lock_test

import (
	"context"
	"fmt"
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

// attackRig is a core on the real SQLite store with an admin code, a
// user code and a guest's expiring code, as a person at the keypad meets
// it (docs/THREATS.md).
type attackRig struct {
	c     *lock.Core
	store *codes.Store
	clk   *clocktest.Fake
	ind   *fakeIndicator
	bolt  *locktest.Bolt
}

const (
	rigAdmin = "864209"
	rigUser  = "4826"
	rigGuest = "7391"
)

func newAttackRig(t testing.TB) *attackRig {
	t.Helper()
	dir := t.TempDir()
	if _, err := codes.FactoryInit(dir, false); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	clk := clocktest.NewFake(time.Now())
	store, err := codes.Open(ctx, codes.Options{Dir: dir, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.SetAdmin(ctx, rigAdmin, clk.Now()); err != nil {
		t.Fatal(err)
	}
	for code, o := range map[string]codes.AddOptions{
		rigUser:  {Kind: codes.KindUser},
		rigGuest: {Kind: codes.KindExpiring, ValidFrom: clk.Now().Add(-time.Hour), ValidUntil: clk.Now().Add(7 * 24 * time.Hour)},
	} {
		if _, err := store.Add(ctx, "x", code, o); err != nil {
			t.Fatal(err)
		}
	}
	r := &attackRig{store: store, clk: clk, ind: &fakeIndicator{}, bolt: &locktest.Bolt{Pos: gpio.PosLocked}}
	r.c, err = lock.New(lock.Config{Keypad: nopKeypad{}, Bolt: r.bolt, Codes: codeslink.Codes{Store: store},
		Indicator: r.ind, Clock: clk, Log: discard(), Sink: codeslink.AuditSink(ctx, store, nil)})
	if err != nil {
		t.Fatal(err)
	}
	r.c.Prime(ctx)
	return r
}

// TestGuestCodeBuysNoGuesses reproduces issue 11 at the keypad: four
// guesses, the guest's code, four guesses... The lockout starts by the
// wrong-entry budget's 10th guess instead of never.
func TestGuestCodeBuysNoGuesses(t *testing.T) {
	r := newAttackRig(t)
	guesses := 0
	for round := 0; round < 4 && r.c.Status().LockedOutUntil.IsZero(); round++ {
		for i := 0; i < 4 && r.c.Status().LockedOutUntil.IsZero(); i++ {
			r.c.StepKeys(fmt.Sprintf("%d%d55#", round, i))
			guesses++
		}
		r.c.StepKeys(rigGuest + "#")
		r.c.StepKeys("#") // the guest locks again behind them
	}
	if r.c.Status().LockedOutUntil.IsZero() {
		t.Fatalf("16 guesses interleaved with a guest code and no lockout")
	}
	if guesses != codes.DefaultBudget {
		t.Errorf("locked out after %d guesses, want %d", guesses, codes.DefaultBudget)
	}
}

// TestRefusedCodeLooksWrong: an expired, disabled or used-up code gets
// the same events at the keypad (but the reason, kept for the owner), the
// same lights, and counts towards the lockout like a wrong one.
func TestRefusedCodeLooksWrong(t *testing.T) {
	r := newAttackRig(t)
	ctx := context.Background()
	list, _ := r.store.List(ctx)
	var guestID int64
	for _, i := range list {
		if i.Kind == codes.KindExpiring {
			guestID = i.ID
		}
	}
	if err := r.store.SetEnabled(ctx, guestID, false); err != nil {
		t.Fatal(err)
	}
	shown := func(keys string) ([]string, []gpio.Pattern) {
		r.ind.shown = nil
		got := kinds(t, r.c, func() { r.c.StepKeys(keys) })
		return got, r.ind.shown
	}
	wrongEv, wrongLEDs := shown("5197#")
	refusedEv, refusedLEDs := shown(rigGuest + "#")
	if d := cmp.Diff(wrongLEDs, refusedLEDs); d != "" {
		t.Errorf("lights differ between a wrong and a disabled code (-wrong +disabled):\n%s", d)
	}
	if len(wrongEv) != 1 || len(refusedEv) != 1 || wrongEv[0] != "denied:unknown" || refusedEv[0] != "denied:disabled" {
		t.Errorf("events: wrong %v, disabled %v", wrongEv, refusedEv)
	}
	if st, _ := r.store.Status(ctx, r.clk.Now()); st.Failures != 2 {
		t.Errorf("%d failures after a wrong and a disabled code, want 2", st.Failures)
	}
}

// TestProgrammingCannotProbeCodes: the admin in programming mode trying
// codes with "1 CODE # CODE #" learns only what the budget allows; the
// lockout ends programming mode.
func TestProgrammingCannotProbeCodes(t *testing.T) {
	r := newAttackRig(t)
	r.c.StepKeys("*" + rigAdmin + "#")
	if r.c.Status().Mode != "programming" {
		t.Fatalf("mode %q", r.c.Status().Mode)
	}
	probes := 0
	for ; probes < 20 && r.c.Status().LockedOutUntil.IsZero(); probes++ {
		r.c.StepKeys("1" + rigUser + "#" + rigUser + "#")
	}
	if r.c.Status().LockedOutUntil.IsZero() {
		t.Fatal("20 colliding codes in programming mode and no lockout")
	}
	if probes != codes.DefaultThreshold {
		t.Errorf("locked out after %d probes, want %d", probes, codes.DefaultThreshold)
	}
	if m := r.c.Status().Mode; m != "idle" {
		t.Errorf("mode %q after the lockout, want idle", m)
	}
	if got := r.ind.shown[len(r.ind.shown)-1]; got != gpio.PatternLockedOut {
		t.Errorf("last pattern %v, want locked out", got)
	}
}

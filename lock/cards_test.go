package lock_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/lock"
)

var (
	rigCard     = gpio.Card{Bits: 26, Facility: 12, Number: 3456}
	rigCard34   = gpio.Card{Bits: 34, Facility: 4242, Number: 65000}
	errBadFrame = fmt.Errorf("gpio: wiegand: 26-bit card: %w", gpio.ErrWiegandParity)
)

// TestEnrolCardAtTheKeypad: "4 #" then a card makes a new user in the
// next free slot, "4 SLOT #" then a card gives the user in SLOT a card;
// either opens like a code, with the same events, lights and bolt.
func TestEnrolCardAtTheKeypad(t *testing.T) {
	r := newAttackRig(t)
	got := kinds(t, r.c, func() {
		r.c.StepKeys("*" + rigAdmin + "#4#")
		if m := r.c.Status().Mode; m != "enrol" {
			t.Errorf("mode %q waiting for a card, want enrol", m)
		}
		r.c.StepCard(&rigCard, nil)
		r.c.StepKeys("41#")
		r.c.StepCard(&rigCard34, nil)
		r.c.StepKeys("#")
	})
	want := []string{"programming", "credential-added", "credential-added", "programming-end"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("enrolment (-want +got):\n%s", d)
	}
	if r.ind.beeps[0] != 3 || r.ind.beeps[1] != 1 {
		t.Errorf("beeps %v, want the new user's slot 3, then slot 1", r.ind.beeps)
	}
	for _, card := range []gpio.Card{rigCard, rigCard34} {
		var granted lock.Event
		events, stop := r.c.Subscribe(16)
		r.c.StepCard(&card, nil)
		stop()
		for e := range events {
			if e.Kind == lock.EventGranted {
				granted = e
			}
		}
		if granted.Source != lock.SourceCard || granted.Credential != "card" || granted.Slot == 0 {
			t.Errorf("%d-bit card: granted %+v", card.Bits, granted)
		}
		if r.c.Status().State != lock.StateUnlocked {
			t.Errorf("%d-bit card: bolt %s", card.Bits, r.c.Status().State)
		}
		r.c.StepKeys("#")
	}
	if r.ind.shown[len(r.ind.shown)-1] != gpio.PatternKey {
		t.Errorf("patterns %v", r.ind.shown)
	}
	// "#" while waiting for the card gives up and stays in programming.
	got = kinds(t, r.c, func() { r.c.StepKeys("*" + rigAdmin + "#4###") })
	if d := cmp.Diff([]string{"programming", "refused:no-card", "programming-end"}, got); d != "" {
		t.Errorf("giving up (-want +got):\n%s", d)
	}
}

// TestCardsCountLikeCodes: an unknown card is a wrong entry, a refused
// card looks and counts like an unknown one, five in a row lock out and
// then even a good card is refused; a malformed frame is refused and
// counts nothing; a card during programming is not looked at.
func TestCardsCountLikeCodes(t *testing.T) {
	r := newAttackRig(t)
	ctx := context.Background()
	user := r.addCardUser(t, rigCard, codes.AddOptions{Kind: codes.KindUser})
	left := r.c.Status().WrongLeft
	shown := func(f func()) ([]string, []gpio.Pattern) {
		r.ind.shown = nil
		got := kinds(t, r.c, f)
		return got, r.ind.shown
	}
	badEv, badLEDs := shown(func() { r.c.StepCard(nil, errBadFrame) })
	if d := cmp.Diff([]string{"refused:bad-frame"}, badEv); d != "" {
		t.Errorf("malformed frame (-want +got):\n%s", d)
	}
	if r.c.Status().WrongLeft != left {
		t.Errorf("a malformed frame counted: %d wrong entries left, was %d", r.c.Status().WrongLeft, left)
	}
	unknownEv, unknownLEDs := shown(func() { r.c.StepCard(&gpio.Card{Bits: 26, Facility: 12, Number: 3457}, nil) })
	if err := r.store.SetUserEnabled(ctx, user, false); err != nil {
		t.Fatal(err)
	}
	refusedEv, refusedLEDs := shown(func() { r.c.StepCard(&rigCard, nil) })
	if d := cmp.Diff(unknownLEDs, refusedLEDs); d != "" {
		t.Errorf("lights differ between an unknown and a disabled card (-unknown +disabled):\n%s", d)
	}
	if d := cmp.Diff(badLEDs, unknownLEDs); d != "" {
		t.Errorf("lights differ between a malformed frame and an unknown card (-frame +card):\n%s", d)
	}
	if fmt.Sprint(unknownEv, refusedEv) != "[denied:unknown] [denied:disabled]" {
		t.Errorf("events: unknown %v, disabled %v", unknownEv, refusedEv)
	}
	if st, _ := r.store.Status(ctx, r.clk.Now()); st.Failures != 2 || r.c.Status().WrongLeft != left-2 {
		t.Errorf("%d failures, %d left after an unknown and a disabled card, want 2 and %d", st.Failures, r.c.Status().WrongLeft, left-2)
	}
	r.store.SetUserEnabled(ctx, user, true)
	got := kinds(t, r.c, func() {
		r.c.StepKeys("*" + rigAdmin + "#")
		r.c.StepCard(&rigCard, nil) // programming, not "4": not looked at
		r.c.StepKeys("#")
	})
	if d := cmp.Diff([]string{"programming", "refused:programming", "programming-end"}, got); d != "" {
		t.Errorf("card in programming mode (-want +got):\n%s", d)
	}
	// The admin's entry forgave the count: five unknown cards from here.
	got = kinds(t, r.c, func() {
		for n := uint32(1); n <= 5; n++ {
			r.c.StepCard(&gpio.Card{Bits: 34, Facility: 999, Number: n}, nil)
		}
		r.c.StepCard(&rigCard, nil)
	})
	want := []string{"denied:unknown", "denied:unknown", "denied:unknown", "denied:unknown", "denied:unknown", "lockout", "alarm", "denied:locked-out"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("lockout by cards (-want +got):\n%s", d)
	}
	if r.bolt.Unlocks != 0 {
		t.Errorf("%d unlocks", r.bolt.Unlocks)
	}
}

// TestCardEnrolmentCannotProbeCards: presenting an enrolled card in
// "4 #" is refused and counts as a wrong entry, so enrolment tells the
// admin at the keypad no more than the reader would.
func TestCardEnrolmentCannotProbeCards(t *testing.T) {
	r := newAttackRig(t)
	r.addCardUser(t, rigCard, codes.AddOptions{Kind: codes.KindUser})
	r.c.StepKeys("*" + rigAdmin + "#")
	probes := 0
	for ; probes < 20 && r.c.Status().LockedOutUntil.IsZero(); probes++ {
		r.c.StepKeys("4#")
		r.c.StepCard(&rigCard, nil)
	}
	if probes != codes.DefaultThreshold {
		t.Errorf("locked out after %d enrolled cards, want %d", probes, codes.DefaultThreshold)
	}
	if m := r.c.Status().Mode; m != "idle" {
		t.Errorf("mode %q after the lockout, want idle", m)
	}
}

// TestTwoFactorAtTheDoor: a two-factor user's card, then the user's PIN,
// opens; the card alone does not and is no wrong entry; the PIN alone is
// refused like a wrong code; a wrong PIN after the card is a wrong entry.
func TestTwoFactorAtTheDoor(t *testing.T) {
	r := newAttackRig(t)
	ctx := context.Background()
	info, err := r.store.Add(ctx, "two", "5173", codes.AddOptions{Kind: codes.KindUser, TwoFactor: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.store.AddCard(ctx, info.UserID, codes.Card(rigCard), r.clk.Now()); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		do   func()
		want []string
	}{
		{"card alone", func() { r.c.StepCard(&rigCard, nil) }, []string{"card-accepted"}},
		{"then the PIN", func() { r.c.StepKeys("5173#"); r.c.StepKeys("#") }, []string{"granted", "unlocking", "unlocked", "locking", "locked"}},
		{"PIN alone", func() { r.c.StepKeys("5173#") }, []string{"denied:card-missing"}},
		{"card, wrong PIN", func() { r.c.StepCard(&rigCard, nil); r.c.StepKeys("5174#") }, []string{"card-accepted", "denied:unknown"}},
		{"card, PIN too late", func() {
			r.c.StepCard(&rigCard, nil)
			r.clk.Advance(codes.DefaultTwoFactorWindow)
			r.c.StepKeys("5173#")
		}, []string{"card-accepted", "denied:card-missing"}},
	}
	for _, s := range steps {
		if got := kinds(t, r.c, s.do); fmt.Sprint(got) != fmt.Sprint(s.want) {
			t.Errorf("%s: %v, want %v", s.name, got, s.want)
		}
	}
	if st, _ := r.store.Status(ctx, r.clk.Now()); st.Failures != 3 {
		t.Errorf("%d failures, want 3: the PIN alone, the wrong PIN, the late PIN", st.Failures)
	}
}

// addCardUser adds a user holding card and returns its id.
func (r *attackRig) addCardUser(t *testing.T, card gpio.Card, o codes.AddOptions) int64 {
	t.Helper()
	u, err := r.store.CreateUser(context.Background(), "card", o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.store.AddCard(context.Background(), u.ID, codes.Card(card), r.clk.Now()); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

var _ = time.Second

package codes

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var card1 = Card{Bits: 26, Facility: 12, Number: 3456}

// cardUser adds a user of o holding card.
func (e *env) cardUser(s *Store, card Card, o AddOptions) UserInfo {
	e.t.Helper()
	u, err := s.CreateUser(context.Background(), "card", o)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := s.AddCard(context.Background(), u.ID, card, e.clk.Now()); err != nil {
		e.t.Fatal(err)
	}
	return u
}

func verifyCard(t testing.TB, s *Store, c Card, now time.Time) Verdict {
	t.Helper()
	v, err := s.VerifyCard(context.Background(), c, now)
	if err != nil {
		t.Fatalf("VerifyCard: %v", err)
	}
	return v
}

// TestVerifyCards: a card opens for its user within the user's limits,
// refused like a wrong code otherwise; the format is part of the card;
// nothing is checked while unprovisioned or locked out; the card's
// numbers are in no file.
func TestVerifyCards(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	if v := verifyCard(t, s, card1, t0); v.Reason != ReasonUnprovisioned || v.Failures != 0 {
		t.Errorf("unprovisioned: %+v", v)
	}
	if err := s.SetAdmin(context.Background(), adminCode, t0); err != nil {
		t.Fatal(err)
	}
	u := e.cardUser(s, card1, AddOptions{Kind: KindOneTime})
	for _, other := range []Card{{Bits: 34, Facility: 12, Number: 3456}, {Bits: 26, Facility: 12, Number: 3457}, {Bits: 26, Facility: 13, Number: 3456}} {
		if v := verifyCard(t, s, other, t0); v.OK || v.Reason != ReasonUnknown {
			t.Errorf("%+v: %+v", other, v)
		}
	}
	v := verifyCard(t, s, card1, t0)
	if !v.OK || v.UserID != u.ID || v.Slot != u.Slot || v.Credential != "card" || v.Failures != 0 {
		t.Errorf("the card: %+v", v)
	}
	if v := verifyCard(t, s, card1, t0); v.OK || v.Reason != ReasonUsedUp || v.Failures != 1 {
		t.Errorf("one-time card twice: %+v", v)
	}
	if err := s.RemoveUser(context.Background(), u.ID); err != nil {
		t.Fatal(err)
	}
	e.cardUser(s, Card{Bits: 34, Facility: 4242, Number: 9}, AddOptions{Kind: KindUser})
	for i := 0; i < 3; i++ {
		verifyCard(t, s, card1, t0)
	}
	v = verifyCard(t, s, card1, t0)
	if !v.Lockout {
		t.Errorf("the 5th wrong card started no lockout: %+v", v)
	}
	if v := verifyCard(t, s, Card{Bits: 34, Facility: 4242, Number: 9}, t0.Add(time.Second)); v.Reason != ReasonLockedOut || v.Failures != 5 {
		t.Errorf("during the lockout: %+v", v)
	}
	s.Close()
	for _, name := range []string{DBName, DBName + "-wal"} {
		b, _ := os.ReadFile(filepath.Join(e.dir, name))
		for _, needle := range []string{"3456", "4242"} {
			if strings.Contains(string(b), needle) {
				t.Errorf("%s holds %s in the clear", name, needle)
			}
		}
	}
}

// TestCardCollisionsCount: enrolling a card that is enrolled already, to
// anyone, is refused and counts as a wrong entry; during a lockout no
// card is looked at.
func TestCardCollisionsCount(t *testing.T) {
	e := newEnv(t)
	s := e.provisioned()
	ctx := context.Background()
	u := e.cardUser(s, card1, AddOptions{Kind: KindUser})
	other, _ := s.CreateUser(ctx, "other", AddOptions{Kind: KindUser})
	for i := 1; i <= DefaultThreshold; i++ {
		_, err := s.AddCard(ctx, other.ID, card1, t0)
		if !errors.Is(err, ErrCardTaken) || !errors.Is(err, ErrDuplicate) {
			t.Fatalf("probe %d: %v", i, err)
		}
		if !strings.Contains(err.Error(), "counted as a wrong entry") {
			t.Errorf("probe %d: %v does not say it counted", i, err)
		}
	}
	if _, err := s.EnrolCard(ctx, u.Slot, Card{Bits: 26, Facility: 1, Number: 1}, t0); !errors.Is(err, ErrLockedOut) {
		t.Errorf("a new card during the lockout: %v", err)
	}
	if st, _ := s.Status(ctx, t0); st.Failures != DefaultThreshold || st.Cards != 1 {
		t.Errorf("status %+v", st)
	}
}

// TestBudgetCoversCards: a guest whose card opens cannot buy guesses
// with it: wrong cards and wrong codes fill one wrong-entry budget.
func TestBudgetCoversCards(t *testing.T) {
	e := newEnv(t)
	s := e.provisioned()
	e.cardUser(s, card1, AddOptions{Kind: KindUser})
	now := t0
	wrong := 0
	for round := 0; round < 10 && wrong < 20; round++ {
		for i := 0; i < DefaultThreshold-1; i++ {
			var v Verdict
			if i%2 == 0 {
				v = verifyCard(t, s, Card{Bits: 26, Facility: 99, Number: uint32(wrong)}, now)
			} else {
				v = verify(t, s, PurposeOpen, fmt.Sprintf("5%04d", wrong), now)
			}
			wrong++
			if v.Lockout {
				if wrong != DefaultBudget {
					t.Errorf("lockout after %d wrong entries, want %d (the budget)", wrong, DefaultBudget)
				}
				return
			}
		}
		if v := verifyCard(t, s, card1, now); !v.OK {
			t.Fatalf("guest's card: %+v", v)
		}
		now = now.Add(time.Minute)
	}
	t.Fatalf("%d wrong entries interleaved with a good card and no lockout", wrong)
}

// TestTwoFactor: card then PIN of the same user within the window opens;
// anything else does not, and only the card step is free.
func TestTwoFactor(t *testing.T) {
	e := newEnv(t)
	s := e.provisioned()
	ctx := context.Background()
	info, err := s.Add(ctx, "two", "5173", AddOptions{Kind: KindUser, TwoFactor: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddCard(ctx, info.UserID, card1, t0); err != nil {
		t.Fatal(err)
	}
	e.add(s, "6284", AddOptions{Kind: KindUser})
	plain := e.cardUser(s, Card{Bits: 26, Facility: 1, Number: 2}, AddOptions{Kind: KindUser})
	w := DefaultTwoFactorWindow
	steps := []struct {
		name    string
		card    *Card
		pin     string
		at      time.Duration
		ok      bool
		reason  string
		counted bool
	}{
		{"PIN alone", nil, "5173", 0, false, ReasonCardMissing, true},
		{"card", &card1, "", 0, false, ReasonPINNeeded, false},
		{"PIN within the window", nil, "5173", w - time.Second, true, "", false},
		{"PIN again, no card", nil, "5173", w, false, ReasonCardMissing, true},
		{"card", &card1, "", 2 * w, false, ReasonPINNeeded, false},
		{"PIN at the window's end", nil, "5173", 3 * w, false, ReasonCardMissing, true},
		{"card", &card1, "", 4 * w, false, ReasonPINNeeded, false},
		{"wrong PIN", nil, "5174", 4 * w, false, ReasonUnknown, true},
		{"right PIN after a wrong one", nil, "5173", 4 * w, false, ReasonCardMissing, true},
		{"card", &card1, "", 5 * w, false, ReasonPINNeeded, false},
		{"another user's card", &Card{Bits: 26, Facility: 1, Number: 2}, "", 5 * w, true, "", false},
		{"PIN after another card", nil, "5173", 5 * w, false, ReasonCardMissing, true},
		{"card", &card1, "", 6 * w, false, ReasonPINNeeded, false},
		{"another user's PIN", nil, "6284", 6 * w, true, "", false},
	}
	for _, st := range steps {
		before, _ := s.Status(ctx, t0)
		var v Verdict
		if st.card != nil {
			v = verifyCard(t, s, *st.card, t0.Add(st.at))
		} else {
			v = verify(t, s, PurposeOpen, st.pin, t0.Add(st.at))
		}
		after, _ := s.Status(ctx, t0)
		counted := after.Failures > before.Failures
		if v.OK != st.ok || v.Reason != st.reason || counted != st.counted || v.SecondFactor != (st.reason == ReasonPINNeeded) {
			t.Errorf("%s: %+v (counted %v), want ok %v reason %q counted %v", st.name, v, counted, st.ok, st.reason, st.counted)
		}
		if counted || v.OK {
			s.ResetLockout(ctx)
		}
	}
	_ = plain
	if _, err := s.Add(ctx, "x", "7395", AddOptions{Kind: KindNonAccess, TwoFactor: true}); !errors.Is(err, ErrInvalid) {
		t.Errorf("two-factor non-access user: %v", err)
	}
}

// TestNonAccess: a non-access user's PIN or card is recognised, opens
// nothing and counts nothing; disabled, it is refused like a wrong one.
func TestNonAccess(t *testing.T) {
	e := newEnv(t)
	s := e.provisioned()
	ctx := context.Background()
	info := e.add(s, "8316", AddOptions{Kind: KindNonAccess})
	if _, err := s.AddCard(ctx, info.UserID, card1, t0); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2*DefaultThreshold; i++ {
		v := verify(t, s, PurposeOpen, "8316", t0)
		vc := verifyCard(t, s, card1, t0)
		if v.OK || !v.NonAccess || v.Reason != ReasonNonAccess || v.Failures != 0 || vc.OK || !vc.NonAccess || vc.Lockout {
			t.Fatalf("use %d: PIN %+v card %+v", i, v, vc)
		}
	}
	users, _ := s.Users(ctx)
	if u := users[len(users)-1]; u.Uses != 4*DefaultThreshold {
		t.Errorf("%d uses recorded, want %d", u.Uses, 4*DefaultThreshold)
	}
	s.SetUserEnabled(ctx, info.UserID, false)
	if v := verifyCard(t, s, card1, t0); v.NonAccess || v.Reason != ReasonDisabled || v.Failures != 1 {
		t.Errorf("disabled non-access card: %+v", v)
	}
}

// TestAfterFirstUse: Matter's expiring user opens from its first use for
// ExpireAfter, whichever credential is used, survives a restart, and
// needs a trusted clock.
func TestAfterFirstUse(t *testing.T) {
	e := newEnv(t)
	synced := true
	e.opts.ClockSynced = func() bool { return synced }
	s := e.provisioned()
	ctx := context.Background()
	info := e.add(s, "9142", AddOptions{Kind: KindAfterFirstUse, ExpireAfter: 30 * time.Minute})
	if _, err := s.AddCard(ctx, info.UserID, card1, t0); err != nil {
		t.Fatal(err)
	}
	synced = false
	if v := verify(t, s, PurposeOpen, "9142", t0); v.Reason != ReasonClockUntrusted {
		t.Errorf("untrusted clock: %+v", v)
	}
	synced = true
	s.ResetLockout(ctx)
	first := t0.Add(24 * time.Hour) // unused for a day: still valid
	if v := verifyCard(t, s, card1, first); !v.OK {
		t.Fatalf("first use: %+v", v)
	}
	s.Close()
	s = e.open()
	if v := verify(t, s, PurposeOpen, "9142", first.Add(29*time.Minute)); !v.OK {
		t.Errorf("29 min after the first use, after a restart: %+v", v)
	}
	if v := verifyCard(t, s, card1, first.Add(30*time.Minute)); v.OK || v.Reason != ReasonExpired {
		t.Errorf("30 min after the first use: %+v", v)
	}
	users, _ := s.Users(ctx)
	if u := users[len(users)-1]; !u.FirstUsed.Equal(first) || u.ExpireAfter != 30*time.Minute {
		t.Errorf("user %+v", u)
	}
	for _, o := range []AddOptions{{Kind: KindAfterFirstUse}, {Kind: KindAfterFirstUse, ExpireAfter: 90 * time.Second},
		{Kind: KindAfterFirstUse, ExpireAfter: MaxExpireAfter + time.Minute}, {Kind: KindUser, ExpireAfter: time.Minute}} {
		if _, err := s.CreateUser(ctx, "x", o); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

// TestUsersAndCredentials: a user with a PIN and a card lists both (as
// ids and types), Codes1's view lists the user once, and removing the
// PIN keeps the card working.
func TestUsersAndCredentials(t *testing.T) {
	e := newEnv(t)
	s := e.provisioned()
	ctx := context.Background()
	info := e.add(s, "2741", AddOptions{Kind: KindUser})
	card, err := s.AddCard(ctx, info.UserID, card1, t0)
	if err != nil {
		t.Fatal(err)
	}
	pin2, err := s.AddPIN(ctx, info.UserID, "3852")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddPIN(ctx, info.UserID, "27419"); !errors.Is(err, ErrAmbiguous) {
		t.Errorf("a PIN starting with another: %v", err)
	}
	s.ResetLockout(ctx)
	users, _ := s.Users(ctx)
	u := users[1]
	if len(u.Credentials) != 3 || u.Credentials[0].ID != info.ID || u.Credentials[1].ID != card || u.Credentials[1].Type != CredentialCard || u.Credentials[2].ID != pin2 {
		t.Errorf("credentials %+v", u.Credentials)
	}
	list, _ := s.List(ctx)
	if len(list) != 2 || list[1].ID != info.ID {
		t.Errorf("Codes1's view %+v", list)
	}
	for _, id := range []int64{info.ID, pin2} {
		if err := s.RemoveCredential(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if v := verifyCard(t, s, card1, t0); !v.OK || v.Slot != info.Slot {
		t.Errorf("card after its user's PINs went: %+v", v)
	}
	if list, _ := s.List(ctx); len(list) != 1 {
		t.Errorf("a user without PINs in Codes1's view: %+v", list)
	}
	users, _ = s.Users(ctx)
	admin := users[0].Credentials[0].ID
	if err := s.RemoveCredential(ctx, admin); !errors.Is(err, ErrInvalid) {
		t.Errorf("removing the admin code: %v", err)
	}
	if _, err := s.AddCard(ctx, users[0].ID, Card{Bits: 26, Number: 5}, t0); !errors.Is(err, ErrInvalid) {
		t.Errorf("a card for the admin: %v", err)
	}
	if _, err := s.AddCard(ctx, 999, Card{Bits: 26, Number: 5}, t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("a card for nobody: %v", err)
	}
	for _, c := range []Card{{Bits: 26, Facility: 256}, {Bits: 34, Facility: 65536}, {Bits: 35}, {Bits: 26, Number: 65536}} {
		if _, err := s.AddCard(ctx, info.UserID, c, t0); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

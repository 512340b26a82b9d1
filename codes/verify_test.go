package codes

import (
	"context"
	"testing"
	"time"
)

func TestUnprovisioned(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	ctx := context.Background()
	for _, p := range []Purpose{PurposeOpen, PurposeAdmin} {
		if v := verify(t, s, p, adminCode, t0); v.OK || v.Reason != ReasonUnprovisioned || v.Failures != 0 {
			t.Errorf("purpose %d: %+v", p, v)
		}
	}
	if _, err := s.Add(ctx, "x", "24680", AddOptions{Kind: KindUser}); !isErr(err, ErrUnprovisioned) {
		t.Errorf("Add before admin: %v", err)
	}
	if v := verify(t, s, PurposeSetup, "24681357", t0); v.OK || v.Reason != ReasonUnknown || v.Failures != 1 {
		t.Errorf("wrong setup code: %+v (wrong setup codes must count)", v)
	}
	v := verify(t, s, PurposeSetup, e.setup, t0)
	if !v.OK || v.Kind != "setup" || v.Failures != 0 {
		t.Errorf("setup code: %+v", v)
	}
	if err := s.SetAdmin(ctx, adminCode, t0); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Provisioned(ctx); !ok {
		t.Error("not provisioned")
	}
	if v := verify(t, s, PurposeSetup, e.setup, t0); v.OK {
		t.Errorf("setup code not burnt: %+v", v)
	}
	if v := verify(t, s, PurposeAdmin, adminCode, t0); !v.OK || v.Kind != "admin" {
		t.Errorf("admin: %+v", v)
	}
	if v := verify(t, s, PurposeOpen, adminCode, t0); v.OK || v.Reason != ReasonUnknown || v.Failures != 1 {
		t.Errorf("admin code to open: %+v (it is for programming mode only)", v)
	}
}

func TestKinds(t *testing.T) {
	e := newEnv(t)
	s := e.provisioned()
	ctx := context.Background()
	// t0 is Monday 12:00 local.
	day := func(d int, hhmm string) time.Time {
		tod, _ := ParseTimeOfDay(hhmm)
		local := time.Date(2026, 11, 2+d, 0, 0, 0, 0, zone)
		return local.Add(time.Duration(tod) * time.Minute)
	}
	fri := int(time.Friday - time.Monday)
	user := e.add(s, "24680", AddOptions{Kind: KindUser})
	duress := e.add(s, "97531", AddOptions{Kind: KindDuress})
	office := e.add(s, "4812", AddOptions{Kind: KindScheduled, Weekdays: Days(time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday), From: 8 * 60, Until: 17 * 60})
	night := e.add(s, "6173", AddOptions{Kind: KindScheduled, Weekdays: Days(time.Friday), From: 22 * 60, Until: 6 * 60})
	allday := e.add(s, "5283", AddOptions{Kind: KindScheduled, Weekdays: Days(time.Sunday)})
	week := e.add(s, "3917", AddOptions{Kind: KindExpiring, ValidFrom: day(1, "00:00"), ValidUntil: day(8, "00:00")})
	once := e.add(s, "7042", AddOptions{Kind: KindOneTime})
	thrice := e.add(s, "8153", AddOptions{Kind: KindLimited, Uses: 3})
	if user.Slot != 1 || thrice.Slot != 8 {
		t.Errorf("slots %d..%d, want 1..8", user.Slot, thrice.Slot)
	}

	for _, tc := range []struct {
		name string
		code string
		at   time.Time
		want string // reason, "" = granted
	}{
		{"user", "24680", day(0, "03:00"), ""},
		{"office mon 08:00", "4812", day(0, "08:00"), ""},
		{"office mon 16:59", "4812", day(0, "16:59"), ""},
		{"office mon 17:00", "4812", day(0, "17:00"), ReasonOutsideSchedule},
		{"office mon 07:59", "4812", day(0, "07:59"), ReasonOutsideSchedule},
		{"office sat", "4812", day(5, "10:00"), ReasonOutsideSchedule},
		{"night fri 21:59", "6173", day(fri, "21:59"), ReasonOutsideSchedule},
		{"night fri 22:00", "6173", day(fri, "22:00"), ""},
		{"night fri 23:59", "6173", day(fri, "23:59"), ""},
		{"night sat 05:59", "6173", day(fri+1, "05:59"), ""},
		{"night sat 06:00", "6173", day(fri+1, "06:00"), ReasonOutsideSchedule},
		{"night sat 23:00", "6173", day(fri+1, "23:00"), ReasonOutsideSchedule},
		{"night fri 03:00 (thu not listed)", "6173", day(fri, "03:00"), ReasonOutsideSchedule},
		{"allday sun 00:00", "5283", day(6, "00:00"), ""},
		{"allday sun 23:59", "5283", day(6, "23:59"), ""},
		{"allday mon", "5283", day(7, "00:00"), ReasonOutsideSchedule},
		{"week before", "3917", day(0, "23:59"), ReasonOutsideSchedule},
		{"week first", "3917", day(1, "00:00"), ""},
		{"week last", "3917", day(7, "23:59"), ""},
		{"week after", "3917", day(8, "00:00"), ReasonExpired},
		{"once", "7042", day(0, "12:00"), ""},
		{"once again", "7042", day(0, "12:01"), ReasonUsedUp},
		{"thrice 1", "8153", day(0, "12:00"), ""},
		{"thrice 2", "8153", day(0, "12:00"), ""},
		{"thrice 3", "8153", day(0, "12:00"), ""},
		{"thrice 4", "8153", day(0, "12:00"), ReasonUsedUp},
	} {
		v := verify(t, s, PurposeOpen, tc.code, tc.at)
		if v.OK != (tc.want == "") || v.Reason != tc.want {
			t.Errorf("%s: %+v, want reason %q", tc.name, v, tc.want)
		}
		// A refused match is reported to the owner (code, reason) but
		// counted like a wrong entry: at the keypad it must not differ.
		if wantFailures := map[bool]int{true: 0, false: 1}[tc.want == ""]; v.CodeID == 0 || v.Failures != wantFailures {
			t.Errorf("%s: matched code not reported, or counted wrongly (want %d failures): %+v", tc.name, wantFailures, v)
		}
		s.ResetLockout(ctx) // each case on its own
	}
	if v := verify(t, s, PurposeOpen, "97531", t0); !v.OK || !v.Duress || v.Kind != "duress" || v.CodeID != duress.ID {
		t.Errorf("duress: %+v", v)
	}
	if v := verify(t, s, PurposeAdmin, "24680", t0); v.OK || v.Reason != ReasonUnknown || v.Failures != 1 {
		t.Errorf("user code for programming mode: %+v", v)
	}
	s.ResetLockout(ctx)

	// Disabled without deleting; a refused match counts like a wrong entry.
	if err := s.SetEnabled(ctx, user.ID, false); err != nil {
		t.Fatal(err)
	}
	if v := verify(t, s, PurposeOpen, "24680", t0); v.Reason != ReasonDisabled || v.Failures != 1 {
		t.Errorf("disabled: %+v", v)
	}
	s.SetEnabled(ctx, user.ID, true)
	if v := verify(t, s, PurposeOpen, "24680", t0); !v.OK {
		t.Errorf("re-enabled: %+v", v)
	}

	// Uses survive a restart; a one-time code stays burnt.
	s.Close()
	s = e.open()
	if v := verify(t, s, PurposeOpen, "7042", t0); v.Reason != ReasonUsedUp {
		t.Errorf("one-time after restart: %+v", v)
	}
	list, _ := s.List(ctx)
	byID := map[int64]Info{}
	for _, i := range list {
		byID[i.ID] = i
	}
	if i := byID[thrice.ID]; i.UsesLeft != 0 || i.Uses != 3 {
		t.Errorf("limited after restart: %+v", i)
	}
	if i := byID[user.ID]; i.Uses != 2 || i.LastUsed.IsZero() {
		t.Errorf("user uses after restart: %+v", i)
	}
	if i := byID[night.ID]; i.Weekdays != Days(time.Friday) || i.From != 22*60 || i.Until != 6*60 {
		t.Errorf("schedule not listed: %+v", i)
	}
	if i := byID[week.ID]; !i.ValidUntil.Equal(day(8, "00:00")) {
		t.Errorf("validity not listed: %+v", i)
	}
	_, _, _ = office, allday, once
}

func TestClockUntrusted(t *testing.T) {
	e := newEnv(t)
	synced := true
	e.opts.ClockSynced = func() bool { return synced }
	s := e.provisioned()
	e.add(s, "24680", AddOptions{Kind: KindUser})
	e.add(s, "97531", AddOptions{Kind: KindDuress})
	e.add(s, "4812", AddOptions{Kind: KindScheduled, Weekdays: AllWeekdays})
	e.add(s, "3917", AddOptions{Kind: KindExpiring, ValidUntil: t0.Add(time.Hour)})
	e.add(s, "7042", AddOptions{Kind: KindOneTime})
	e.add(s, "8153", AddOptions{Kind: KindLimited, Uses: 5, ValidUntil: t0.Add(time.Hour)})

	check := func(name string, now time.Time, timeLimited string) {
		if v := verify(t, s, PurposeAdmin, adminCode, now); !v.OK {
			t.Errorf("%s: admin: %+v", name, v)
		}
		for code, want := range map[string]string{
			"24680": "", "97531": "", "7042": "",
			"4812": timeLimited, "3917": timeLimited, "8153": timeLimited,
		} {
			v := verify(t, s, PurposeOpen, code, now)
			if v.Reason != want {
				t.Errorf("%s: code kind %s: reason %q, want %q", name, v.Kind, v.Reason, want)
			}
		}
		s.db.Exec("UPDATE users SET uses_left = 1 WHERE kind = 'one-time'")
	}
	check("trusted", t0, "")
	check("before build time", built.Add(-time.Second), ReasonClockUntrusted)
	synced = false
	check("not synced", t0, ReasonClockUntrusted)
}

func TestHostileInput(t *testing.T) {
	e := newEnv(t)
	s := e.provisioned()
	ctx := context.Background()
	e.add(s, "24680", AddOptions{Kind: KindUser})
	huge := make([]byte, 10000)
	for i := range huge {
		huge[i] = '0' + byte(i%7)
	}
	inputs := []string{"", "2468\x00", "\x002468", "24 68", "2468#", "*2468", "abcd", "٢٤٦٨",
		string(huge), string(huge[:13]), "\xff\xff\xff\xff", "24680\n", "-2468", "0x2468"}
	before, _ := s.List(ctx)
	for _, in := range inputs {
		if _, err := s.Add(ctx, "x", in, AddOptions{Kind: KindUser}); !isErr(err, ErrWeakCode) {
			t.Errorf("Add(%.20q) = %v, want ErrWeakCode", in, err)
		} else {
			noDigits(t, err, in)
		}
		if err := s.SetAdmin(ctx, in, t0); !isErr(err, ErrWeakCode) {
			t.Errorf("SetAdmin(%.20q) = %v", in, err)
		}
	}
	for _, label := range []string{string(make([]byte, MaxLabel+1)), "a\x00b", "\xff", "tab\there"} {
		if _, err := s.Add(ctx, label, "86420", AddOptions{Kind: KindUser}); !isErr(err, ErrInvalid) {
			t.Errorf("label %.20q: %v", label, err)
		}
	}
	for _, o := range []AddOptions{
		{Kind: "root"}, {Kind: KindAdmin}, {Kind: KindUser, Uses: 3}, {Kind: KindScheduled},
		{Kind: KindScheduled, Weekdays: 0x80}, {Kind: KindScheduled, Weekdays: 1, From: 24 * 60},
		{Kind: KindExpiring}, {Kind: KindExpiring, ValidFrom: t0, ValidUntil: t0},
		{Kind: KindOneTime, Uses: 2}, {Kind: KindLimited}, {Kind: KindLimited, Uses: MaxUses + 1},
		{Kind: KindDuress, ValidUntil: t0},
	} {
		if _, err := s.Add(ctx, "x", "86420", o); !isErr(err, ErrInvalid) {
			t.Errorf("options %+v: %v", o, err)
		}
	}
	after, _ := s.List(ctx)
	if len(after) != len(before) {
		t.Errorf("hostile input changed the store: %d codes, was %d", len(after), len(before))
	}
	// Verify treats them as wrong entries: counted, never an error.
	s.opts.Lockout.Threshold, s.opts.Lockout.Budget = 1000, 1000
	for i, in := range inputs {
		v, err := s.Verify(ctx, PurposeOpen, in, t0)
		if err != nil || v.OK || v.Reason != ReasonUnknown || v.Failures != i+1 {
			t.Errorf("Verify(%.20q) = %+v, %v", in, v, err)
		}
	}
}

func TestUnambiguous(t *testing.T) {
	e := newEnv(t)
	// Collisions count as wrong entries (TestCollisionsCount); this test
	// is about which codes collide, so the limit is out of the way.
	e.opts.Lockout = LockoutPolicy{Threshold: 1000, Budget: 1000}
	s := e.provisioned() // 135792
	ctx := context.Background()
	e.add(s, "2468", AddOptions{Kind: KindUser})
	e.add(s, "80642975", AddOptions{Kind: KindUser})
	for code, want := range map[string]error{
		"1357":          ErrAmbiguous, // starts the admin code
		"5792":          ErrAmbiguous, // ends it
		"3579":          nil,          // inside it is fine
		"1357924":       ErrAmbiguous, // the admin code starts it
		"81357926":      nil,
		"8135792":       ErrAmbiguous, // ends with the admin code
		"24681":         ErrAmbiguous, // starts with 2468
		"902468":        ErrAmbiguous, // ends with 2468
		"8064":          ErrAmbiguous, // starts 80642975
		"2975":          ErrAmbiguous, // ends it
		"642975":        ErrAmbiguous,
		"806429":        ErrAmbiguous,
		"80642975":      ErrDuplicate,
		"135792":        ErrDuplicate, // the admin code
		"064297":        nil,
		"8064297513579": ErrWeakCode, // too long anyway
	} {
		_, err := s.Add(ctx, "x", code, AddOptions{Kind: KindUser})
		if want == nil && err != nil || want != nil && !isErr(err, want) {
			t.Errorf("Add(%s) = %v, want %v", code, err, want)
		}
		noDigits(t, err, code)
	}
	// Removing a code frees its prefixes.
	list, _ := s.List(ctx)
	for _, i := range list {
		if i.Slot == 1 {
			s.Remove(ctx, i.ID)
		}
	}
	if _, err := s.Add(ctx, "x", "24681", AddOptions{Kind: KindUser}); err != nil {
		t.Errorf("after removing 2468: %v", err)
	}
	// Each code has one sealed list of the same size; the affix table holds
	// only real affixes, and releasing them works.
	var lists, codes, bad int
	s.db.QueryRow("SELECT count(*), sum(length(sealed) != ?) FROM credential_affixes", sealSize).Scan(&lists, &bad)
	s.db.QueryRow("SELECT count(*) FROM credentials").Scan(&codes)
	if lists != codes || bad != 0 {
		t.Errorf("%d sealed lists (%d of the wrong size) for %d codes", lists, bad, codes)
	}
	list, _ = s.List(ctx)
	for _, i := range list {
		if i.Kind != KindAdmin {
			s.Remove(ctx, i.ID)
		}
	}
	var affixes, refs int
	s.db.QueryRow("SELECT count(*), sum(refs) FROM affixes").Scan(&affixes, &refs)
	if affixes != 4 || refs != 4 { // 1357 5792 13579 35792 of the admin code
		t.Errorf("%d affixes (%d refs) left with only the admin code, want 4", affixes, refs)
	}
}

func TestChangeAdmin(t *testing.T) {
	e := newEnv(t)
	s := e.provisioned()
	ctx := context.Background()
	if err := s.SetAdmin(ctx, adminCode, t0); err != nil {
		t.Errorf("setting the same admin code again: %v", err)
	}
	if err := s.SetAdmin(ctx, "9753124", t0); err != nil {
		t.Fatal(err)
	}
	if v := verify(t, s, PurposeAdmin, adminCode, t0); v.OK {
		t.Error("old admin code still works")
	}
	if v := verify(t, s, PurposeAdmin, "9753124", t0); !v.OK {
		t.Errorf("new admin code: %+v", v)
	}
	list, _ := s.List(ctx)
	if len(list) != 1 || list[0].Kind != KindAdmin || list[0].Slot != 0 {
		t.Fatalf("list: %+v", list)
	}
	if err := s.Remove(ctx, list[0].ID); !isErr(err, ErrInvalid) {
		t.Errorf("removing admin: %v", err)
	}
	if err := s.SetEnabled(ctx, list[0].ID, false); !isErr(err, ErrInvalid) {
		t.Errorf("disabling admin: %v", err)
	}
	if err := s.SetAdmin(ctx, "2468", t0); !isErr(err, ErrWeakCode) {
		t.Errorf("4-digit admin: %v", err)
	}
}

func TestSlots(t *testing.T) {
	e := newEnv(t)
	e.opts.MaxSlots = 3
	s := e.provisioned()
	ctx := context.Background()
	now := e.clk.Now()
	for i, c := range []string{"2468", "3579", "4680"} {
		if slot, err := s.AddUser(ctx, c, now); err != nil || slot != i+1 {
			t.Fatalf("AddUser: slot %d, %v", slot, err)
		}
	}
	if _, err := s.AddUser(ctx, "5791", now); !isErr(err, ErrFull) {
		t.Errorf("4th slot: %v", err)
	}
	if err := s.RemoveSlot(ctx, 2, now); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveSlot(ctx, 2, now); !isErr(err, ErrNotFound) {
		t.Errorf("removing an empty slot: %v", err)
	}
	if v := verify(t, s, PurposeOpen, "3579", now); v.OK {
		t.Error("removed code opens")
	}
	if slot, err := s.AddUser(ctx, "5791", now); err != nil || slot != 2 {
		t.Errorf("re-used slot %d, %v", slot, err)
	}
	if err := s.Remove(ctx, 999); !isErr(err, ErrNotFound) {
		t.Errorf("Remove(999): %v", err)
	}
	if err := s.SetEnabled(ctx, 999, true); !isErr(err, ErrNotFound) {
		t.Errorf("SetEnabled(999): %v", err)
	}
	if v := verify(t, s, PurposeOpen, "5791", now); v.Slot != 2 || !v.OK {
		t.Errorf("verdict slot: %+v", v)
	}
}

func TestSharedAffixesAreCounted(t *testing.T) {
	e := newEnv(t)
	s := e.provisioned()
	ctx := context.Background()
	a := e.add(s, "246813", AddOptions{Kind: KindUser})
	b := e.add(s, "246857", AddOptions{Kind: KindUser}) // shares the prefix 2468
	s.Remove(ctx, a.ID)
	if _, err := s.Add(ctx, "x", "2468", AddOptions{Kind: KindUser}); !isErr(err, ErrAmbiguous) {
		t.Errorf("prefix of the remaining code: %v", err)
	}
	s.Remove(ctx, b.ID)
	if _, err := s.Add(ctx, "x", "2468", AddOptions{Kind: KindUser}); err != nil {
		t.Errorf("after removing both: %v", err)
	}
}

func TestSealRoundTrip(t *testing.T) {
	d := newDigester(make([]byte, 32))
	vals := []int64{1, -2, 1 << 62}
	a, _ := d.seal(vals)
	b, _ := d.seal(vals)
	if len(a) != sealSize || string(a) == string(b) {
		t.Fatal("sealed lists not fixed-size or not randomised")
	}
	if got := d.unseal(a); len(got) != 3 || got[0] != 1 || got[1] != -2 || got[2] != 1<<62 {
		t.Errorf("unseal = %v", got)
	}
	if got := newDigester([]byte("another key")).unseal(a); len(got) == 3 && got[0] == 1 {
		t.Error("opened under another key")
	}
}

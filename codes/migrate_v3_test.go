package codes

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// TestMigrateV2: every code of a database written before users and
// credentials becomes a user holding one PIN of the same id, with its
// kind, slot, label, schedule, uses and state, still checked the same;
// prefixes are still refused; ids are never reused; the copy of the v2
// database stays behind and holds the codes.
func TestMigrateV2(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	l := legacyDB(t, e, 2)
	admin := l.code(adminCode, KindAdmin, 0, "")
	user := l.code("24680", KindUser, 1, "uses = 7")
	once := l.code("97531", KindOneTime, 2, "uses_left = 1")
	off := l.code("70428", KindUser, 3, "enabled = 0")
	sched := l.code("481236", KindScheduled, 5, fmt.Sprintf("weekdays = %d, from_min = 600, until_min = 720", int(Days(time.Monday))))
	gone := l.code("39175", KindUser, 4, "")
	l.exec("DELETE FROM code_affixes WHERE code_id = ?", gone)
	l.exec("DELETE FROM codes WHERE id = ?", gone) // its affixes stay: harmless, as before
	l.exec("INSERT INTO audit (time_us, kind, source, code_id, slot, class) VALUES (1, 'granted', 'keypad', ?, 1, 0)", user)
	l.close()

	s := e.open()
	if v, _ := userVersion(ctx, s.db); v != len(migrations) {
		t.Fatalf("user_version %d, want %d", v, len(migrations))
	}
	list, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		id      int64
		slot    int
		kind    Kind
		enabled bool
		label   string
	}
	var got []row
	for _, i := range list {
		got = append(got, row{i.ID, i.Slot, i.Kind, i.Enabled, i.Label})
		if i.UserID != i.ID {
			t.Errorf("code %d: user %d, want the same id", i.ID, i.UserID)
		}
	}
	want := []row{{admin, 0, KindAdmin, true, "legacy " + adminCode}, {user, 1, KindUser, true, "legacy 24680"},
		{once, 2, KindOneTime, true, "legacy 97531"}, {off, 3, KindUser, false, "legacy 70428"},
		{sched, 5, KindScheduled, true, "legacy 481236"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after migration:\n got %v\nwant %v", got, want)
	}
	for _, i := range list {
		if i.ID == user && i.Uses != 7 {
			t.Errorf("uses %d, want 7", i.Uses)
		}
	}
	// The same verdicts as before: t0 is a Monday 12:00 in the tests' zone.
	for code, wantOK := range map[string]bool{"24680": true, "97531": true, "70428": false, "481236": false, "39175": false} {
		if v := verify(t, s, PurposeOpen, code, t0); v.OK != wantOK || (v.OK && v.Credential != "pin") {
			t.Errorf("%s: %+v, want OK %v", code, v, wantOK)
		}
	}
	if v := verify(t, s, PurposeOpen, "97531", t0); v.Reason != ReasonUsedUp {
		t.Errorf("one-time code twice: %+v", v)
	}
	if v := verify(t, s, PurposeAdmin, adminCode, t0); !v.OK {
		t.Errorf("admin code: %+v", v)
	}
	if err := s.ResetLockout(ctx); err != nil {
		t.Fatal(err)
	}
	// The affixes came along: a code starting with a migrated one is refused.
	if _, err := s.Add(ctx, "x", "2468013", AddOptions{Kind: KindUser}); !errors.Is(err, ErrAmbiguous) {
		t.Errorf("prefix of a migrated code: %v", err)
	}
	s.ResetLockout(ctx)
	// Ids are never reused, not even the removed code's.
	info, err := s.Add(ctx, "new", "86420", AddOptions{Kind: KindUser})
	if err != nil {
		t.Fatal(err)
	}
	if info.ID <= gone || info.UserID <= gone {
		t.Errorf("new code id %d user %d reuse ids up to %d", info.ID, info.UserID, gone)
	}
	if info.Slot != 4 {
		t.Errorf("new code in slot %d, want the free slot 4", info.Slot)
	}
	// Removing a migrated code releases its affixes.
	if err := s.Remove(ctx, user); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(ctx, "x", "2468013", AddOptions{Kind: KindUser}); err != nil {
		t.Errorf("after removing 24680: %v", err)
	}
	// The pre-migration copy is the v2 database with the codes in it.
	n := hasNotice(s, NoticeMigrated)
	if n == nil || n.Path != backupName(filepath.Join(e.dir, DBName), 2) {
		t.Fatalf("migrated notice: %+v", s.Notices())
	}
	bak, err := sql.Open("sqlite3", "file:"+n.Path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer bak.Close()
	var v, codes int
	bak.QueryRow("PRAGMA user_version").Scan(&v)
	bak.QueryRow("SELECT count(*) FROM codes").Scan(&codes)
	if v != 2 || codes != 5 {
		t.Errorf("backup: version %d with %d codes, want 2 with 5", v, codes)
	}
}

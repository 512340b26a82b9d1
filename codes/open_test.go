package codes

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestPragmasOnEveryConnection(t *testing.T) {
	s := newEnv(t).open()
	ctx := context.Background()
	for i := 0; i < 3; i++ { // several connections of the pool at once
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var mode string
		var sync, fk, busy int
		c.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode)
		c.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync)
		c.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk)
		c.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy)
		if mode != "wal" || sync != 2 || fk != 1 || busy <= 0 {
			t.Errorf("conn %d: journal_mode=%s synchronous=%d foreign_keys=%d busy_timeout=%d", i, mode, sync, fk, busy)
		}
	}
}

// filledStore leaves a closed database with an admin code, 40 user codes
// and 200 audit events, so it spans many pages.
func filledStore(t *testing.T, e *env) {
	s := e.provisioned()
	ctx := context.Background()
	for i := 0; i < 40; i++ {
		e.add(s, fmt.Sprintf("%d", 20000000+i*7919), AddOptions{Kind: KindUser})
	}
	for i := 0; i < 200; i++ {
		if err := s.Record(ctx, AuditEvent{Kind: "test", Details: map[string]string{"i": fmt.Sprint(i)}, UID: -1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptDatabaseIsMovedAside(t *testing.T) {
	for _, tc := range []struct {
		name    string
		corrupt func(t *testing.T, path string)
	}{
		{"garbage", func(t *testing.T, path string) {
			os.WriteFile(path, bytes.Repeat([]byte("not a database "), 1000), 0o600)
		}},
		{"flipped page", func(t *testing.T, path string) {
			b, _ := os.ReadFile(path)
			if len(b) < 8*4096 {
				t.Fatalf("database only %d bytes", len(b))
			}
			for i := 0; i < 64; i++ { // the header and first cells of page 4
				b[3*4096+i] ^= 0xa5
			}
			os.WriteFile(path, b, 0o600)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			filledStore(t, e)
			path := filepath.Join(e.dir, DBName)
			tc.corrupt(t, path)
			before, _ := os.ReadFile(path)

			s := e.open()
			n := hasNotice(s, NoticeCorrupt)
			if n == nil || !n.Warn {
				t.Fatalf("no corrupt notice: %+v", s.Notices())
			}
			aside, err := os.ReadFile(n.Path)
			if err != nil || !bytes.Equal(aside, before) {
				t.Errorf("moved-aside file %s differs from the corrupt one (%v)", n.Path, err)
			}
			ctx := context.Background()
			if ok, _ := s.Provisioned(ctx); ok {
				t.Error("provisioned after starting fresh")
			}
			if v := verify(t, s, PurposeOpen, adminCode, t0); v.Reason != ReasonUnprovisioned {
				t.Errorf("open on fresh store: %+v", v)
			}
			// The owner's recovery path: the label's setup code still works.
			if v := verify(t, s, PurposeSetup, e.setup, t0); !v.OK {
				t.Errorf("setup code after corruption: %+v", v)
			}
			log, _ := s.Log(ctx, 0, 10)
			if len(log) != 1 || log[0].Reason != NoticeCorrupt {
				t.Errorf("audit log of fresh store: %+v", log)
			}
		})
	}
}

func TestIOErrorIsNotCorruption(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(e.dir, DBName)
	os.Mkdir(path, 0o700) // a directory where the database should be
	if _, err := Open(context.Background(), e.opts); err == nil {
		t.Fatal("Open succeeded")
	}
	if m, _ := filepath.Glob(path + ".corrupt-*"); len(m) != 0 {
		t.Errorf("moved aside: %v", m)
	}
}

// fakeV2 is a fake next schema version.
var fakeV2 = append(append([]migration(nil), migrations...),
	migration{"fake next", "ALTER TABLE users ADD COLUMN note TEXT NOT NULL DEFAULT ''"})

func TestMigrateOlderSchema(t *testing.T) {
	e := newEnv(t)
	s, err := e.openWith(migrations) // what the old lockd wrote
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s.SetAdmin(ctx, adminCode, t0)
	e.add(s, "24680", AddOptions{Kind: KindUser})
	s.Close()

	s, err = e.openWith(fakeV2)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := userVersion(ctx, s.db); v != len(fakeV2) {
		t.Errorf("user_version %d after migration, want %d", v, len(fakeV2))
	}
	n := hasNotice(s, NoticeMigrated)
	if n == nil || n.Path != backupName(filepath.Join(e.dir, DBName), len(migrations)) {
		t.Fatalf("migrated notice: %+v", s.Notices())
	}
	if _, err := os.Stat(n.Path); err != nil {
		t.Fatal(err)
	}
	if v := verify(t, s, PurposeOpen, "24680", t0); !v.OK {
		t.Errorf("code lost in migration: %+v", v)
	}
	if _, err := s.db.ExecContext(ctx, "UPDATE users SET note = 'x'"); err != nil {
		t.Errorf("new column missing: %v", err)
	}
}

func TestNewerSchemaRestoresOwnCopy(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s, _ := e.openWith(migrations)
	s.SetAdmin(ctx, adminCode, t0)
	e.add(s, "24680", AddOptions{Kind: KindUser})
	s.Close()

	// The upgraded lockd migrates (copying v1), adds a code and gets
	// locked out; then the unit rolls back to the old slot.
	e.opts.Lockout = LockoutPolicy{Threshold: 2, Base: time.Hour, Max: time.Hour}
	s, err := e.openWith(fakeV2)
	if err != nil {
		t.Fatal(err)
	}
	e.add(s, "86420", AddOptions{Kind: KindUser})
	verify(t, s, PurposeOpen, "99999990", t0)
	if v := verify(t, s, PurposeOpen, "99999991", t0); !v.Lockout {
		t.Fatalf("no lockout: %+v", v)
	}
	s.Close()
	newer, _ := os.ReadFile(filepath.Join(e.dir, DBName))

	e.clk.Advance(10 * time.Minute)
	s, err = e.openWith(migrations)
	if err != nil {
		t.Fatal(err)
	}
	n := hasNotice(s, NoticeRestored)
	if n == nil || !n.Warn {
		t.Fatalf("no restored notice: %+v", s.Notices())
	}
	if kept, _ := os.ReadFile(n.Path); !bytes.Equal(kept, newer) {
		t.Errorf("newer database not kept as it was at %s", n.Path)
	}
	if v, _ := userVersion(ctx, s.db); v != len(migrations) {
		t.Errorf("user_version %d, want %d", v, len(migrations))
	}
	now := e.clk.Now()
	if until, _ := s.LockedOutUntil(ctx, now); until.Sub(now) < 50*time.Minute {
		t.Errorf("lockout not carried over the rollback: until %v", until)
	}
	s.ResetLockout(ctx)
	if v := verify(t, s, PurposeOpen, "24680", now); !v.OK {
		t.Errorf("code from before the upgrade: %+v", v)
	}
	if v := verify(t, s, PurposeOpen, "86420", now); v.OK {
		t.Errorf("code added by the newer lockd is in the restored copy: %+v", v)
	}
	log, _ := s.Log(ctx, 0, 100)
	if len(log) == 0 || log[len(log)-1].Reason != NoticeRestored {
		t.Errorf("restore not in the audit log: %+v", log)
	}
}

func TestNewerSchemaWithoutCopyIsRefused(t *testing.T) {
	e := newEnv(t)
	s, err := e.openWith(fakeV2) // created at v2 directly: no v1 copy
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	path := filepath.Join(e.dir, DBName)
	before, _ := os.ReadFile(path)
	_, err = e.openWith(migrations)
	if !isErr(err, ErrNewerSchema) {
		t.Fatalf("Open: %v, want ErrNewerSchema", err)
	}
	after, _ := os.ReadFile(path)
	if sha256.Sum256(before) != sha256.Sum256(after) {
		t.Error("refused database was changed")
	}
	if m, _ := filepath.Glob(path + ".*"); len(m) != 0 {
		t.Errorf("files appeared: %v", m)
	}
}

func TestInterruptedRestoreIsFinished(t *testing.T) {
	e := newEnv(t)
	s := e.provisioned()
	s.Close()
	path := filepath.Join(e.dir, DBName)
	os.Rename(path, path+".restore") // crashed after moving the newer file aside
	s = e.open()
	if ok, _ := s.Provisioned(context.Background()); !ok {
		t.Error("restore not finished")
	}
}

func TestDatabaseOfAnotherKey(t *testing.T) {
	e := newEnv(t)
	s := e.provisioned()
	s.Close()
	key := make([]byte, DeviceKeySize)
	os.WriteFile(filepath.Join(e.dir, DeviceKeyName), key, 0o600)
	s = e.open()
	if hasNotice(s, NoticeOtherKey) == nil {
		t.Fatalf("notices: %+v", s.Notices())
	}
	if ok, _ := s.Provisioned(context.Background()); ok {
		t.Error("still provisioned")
	}
}

func TestFileModeAndOrphanWAL(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(e.dir, DBName)
	os.WriteFile(path+"-wal", []byte("stale wal of a deleted database"), 0o600)
	s := e.provisioned()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("database file mode: %v %v", fi, err)
	}
	if m, _ := filepath.Glob(path + ".orphan-*-wal"); len(m) != 1 {
		t.Errorf("orphan WAL not moved aside: %v", m)
	}
	if ok, _ := s.Provisioned(context.Background()); !ok {
		t.Error("not provisioned")
	}
}

// TestMigrateV1: a database written by the lockd before the wrong-entry
// budget keeps its codes, lockout and audit log, and its audit events get
// the classes auditClass gives new ones.
func TestMigrateV1(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	l := legacyDB(t, e, 2) // the v2 lockd's, whose tables this test rewinds to v1
	l.code(adminCode, KindAdmin, 0, "")
	l.code("24680", KindUser, 1, "")
	l.close()
	// Back to the v1 schema, and what the old lockd wrote there: an audit
	// log without classes and a running lockout.
	db, err := sql.Open("sqlite3", filepath.Join(e.dir, DBName))
	if err != nil {
		t.Fatal(err)
	}
	events := []AuditEvent{
		{Kind: "granted", Source: "keypad", UID: -1},
		{Kind: "denied", Source: "keypad", Reason: ReasonLockedOut, UID: -1},
		{Kind: "refused", Source: "keypad", Reason: "too-long", UID: -1},
		{Kind: "denied", Source: "card", Reason: ReasonUnknown, UID: -1},
		{Kind: "access-denied", Source: "dbus", Reason: "io.lockd.Lock1.Unlock", UID: 1000},
		{Kind: "code-added", Source: "dbus", UID: 0},
	}
	stmts := []string{"DELETE FROM audit", "DROP INDEX audit_class", "ALTER TABLE audit DROP COLUMN class",
		"ALTER TABLE lockout DROP COLUMN level_milli", "PRAGMA user_version = 1",
		fmt.Sprintf("UPDATE lockout SET failures = 5, until_us = %d, remaining_us = %d, duration_us = %d",
			t0.Add(time.Hour).UnixMicro(), time.Hour.Microseconds(), time.Hour.Microseconds())}
	for _, ev := range events {
		stmts = append(stmts, fmt.Sprintf("INSERT INTO audit (time_us, kind, source, reason, uid) VALUES (%d, '%s', '%s', '%s', %d)",
			micros(t0), ev.Kind, ev.Source, ev.Reason, ev.UID))
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s := e.open()
	if v, _ := userVersion(ctx, s.db); v != len(migrations) {
		t.Errorf("user_version %d, want %d", v, len(migrations))
	}
	if until, _ := s.LockedOutUntil(ctx, t0.Add(time.Minute)); until.IsZero() {
		t.Error("lockout lost in the migration")
	}
	rows, err := s.db.QueryContext(ctx, "SELECT kind, source, reason, class FROM audit WHERE kind != 'store' ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var ev AuditEvent
		var class int
		if err := rows.Scan(&ev.Kind, &ev.Source, &ev.Reason, &class); err != nil {
			t.Fatal(err)
		}
		if want := auditClass(ev); class != want {
			t.Errorf("%s/%s/%s: class %d after migration, want %d", ev.Kind, ev.Source, ev.Reason, class, want)
		}
		n++
	}
	if n != len(events) {
		t.Errorf("%d events after migration, want %d", n, len(events))
	}
	if err := s.ResetLockout(ctx); err != nil {
		t.Fatal(err)
	}
	if v := verify(t, s, PurposeOpen, "24680", t0.Add(2*time.Hour)); !v.OK {
		t.Errorf("code lost in the migration: %+v", v)
	}
}

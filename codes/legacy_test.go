package codes

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// legacy is a database written by the lockd of an older schema version,
// made with that version's migrations and SQL, not with today's store.
type legacy struct {
	t   *testing.T
	db  *sql.DB
	dig *digester
}

// legacyDB creates e's database at schema version v.
func legacyDB(t *testing.T, e *env, v int) *legacy {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(e.dir, DBName)
	key, _, err := readDeviceKey(filepath.Join(e.dir, DeviceKeyName), e.dir)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := migrate(ctx, db, path, 0, migrations[:v]); err != nil {
		t.Fatal(err)
	}
	l := &legacy{t: t, db: db, dig: newDigester(key)}
	l.exec("INSERT INTO meta (key, value) VALUES ('key_id', ?)", l.dig.keyID())
	return l
}

func (l *legacy) exec(q string, args ...any) sql.Result {
	l.t.Helper()
	r, err := l.db.Exec(q, args...)
	if err != nil {
		l.t.Fatalf("%s: %v", q, err)
	}
	return r
}

// code stores code as the lockd before users did: a codes row, its
// affixes and their sealed list. slot 0 is the admin code's.
func (l *legacy) code(code string, kind Kind, slot int, extra string) int64 {
	l.t.Helper()
	var slotArg any
	if slot > 0 {
		slotArg = slot
	}
	r := l.exec("INSERT INTO codes (digest, kind, slot, label, created_us) VALUES (?, ?, ?, ?, 1)",
		l.dig.code(code), string(kind), slotArg, "legacy "+code)
	id, _ := r.LastInsertId()
	if extra != "" {
		l.exec("UPDATE codes SET "+extra+" WHERE id = ?", id)
	}
	var vals []int64
	seen := map[int64]bool{}
	for _, a := range affixesOf(code) {
		if v := l.dig.affix(a); !seen[v] {
			seen[v] = true
			vals = append(vals, v)
			l.exec("INSERT INTO affixes (affix, refs) VALUES (?, 1) ON CONFLICT (affix) DO UPDATE SET refs = refs + 1", v)
		}
	}
	sealed, err := l.dig.seal(vals)
	if err != nil {
		l.t.Fatal(err)
	}
	l.exec("INSERT INTO code_affixes (code_id, sealed) VALUES (?, ?)", id, sealed)
	return id
}

func (l *legacy) close() {
	l.t.Helper()
	if err := l.db.Close(); err != nil {
		l.t.Fatal(err)
	}
}

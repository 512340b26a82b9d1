package codes

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
)

// migration moves the schema from version i to i+1 (its index + 1).
// Migrations only ever get appended; a released one is never edited.
type migration struct {
	name string
	sql  string
}

// migrations is the schema history; len(migrations) is the version this
// binary writes.
var migrations = []migration{
	{"initial schema", schemaV1},
	{"wrong-entry budget and audit classes", schemaV2},
	{"users and credentials", schemaV3},
	{"vacation users", schemaV4},
}

// Times are µs since the Unix epoch. Digests are HMAC-SHA256 under the
// device key (see digest.go); no digit is stored anywhere.
const schemaV1 = `
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE codes (
	id             INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: the audit log names ids
	digest         BLOB    NOT NULL UNIQUE CHECK (length(digest) = 32),
	kind           TEXT    NOT NULL,
	slot           INTEGER UNIQUE CHECK (slot >= 1),
	label          TEXT    NOT NULL DEFAULT '',
	enabled        INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
	weekdays       INTEGER NOT NULL DEFAULT 0,
	from_min       INTEGER NOT NULL DEFAULT 0,
	until_min      INTEGER NOT NULL DEFAULT 0,
	valid_from_us  INTEGER,
	valid_until_us INTEGER,
	uses_left      INTEGER,            -- NULL: unlimited
	uses           INTEGER NOT NULL DEFAULT 0,
	created_us     INTEGER NOT NULL,
	last_used_us   INTEGER,
	CHECK ((kind = 'admin') = (slot IS NULL))
);
CREATE UNIQUE INDEX codes_one_admin ON codes (kind) WHERE kind = 'admin';

-- Keyed 64-bit digests of the prefixes and suffixes (4 digits or more)
-- of all codes, with how many codes have each; not linked to any code.
-- See affix.go.
CREATE TABLE affixes (
	affix INTEGER PRIMARY KEY,
	refs  INTEGER NOT NULL
);

-- Per code, its affix values sealed under the device key in a fixed-size
-- blob, so that removing it can release them without showing its length.
CREATE TABLE code_affixes (
	code_id INTEGER PRIMARY KEY REFERENCES codes (id) ON DELETE CASCADE,
	sealed  BLOB NOT NULL
);

-- One row. failures counts consecutive wrong entries, admin_failures the
-- wrong admin entries among them (a user code does not forgive those).
-- until_us is the wall-clock end; remaining_us what was left when it was
-- written; duration_us the length of the running lockout step. On open
-- the larger of (until - now) and remaining, capped at duration, is
-- resumed: see lockout.go.
CREATE TABLE lockout (
	id             INTEGER PRIMARY KEY CHECK (id = 1),
	failures       INTEGER NOT NULL,
	admin_failures INTEGER NOT NULL,
	until_us       INTEGER NOT NULL,
	remaining_us   INTEGER NOT NULL,
	duration_us    INTEGER NOT NULL
);
INSERT INTO lockout VALUES (1, 0, 0, 0, 0, 0);

CREATE TABLE audit (
	id        INTEGER PRIMARY KEY AUTOINCREMENT, -- Log pages by id: never reused
	time_us   INTEGER NOT NULL,
	kind      TEXT    NOT NULL,
	source    TEXT    NOT NULL DEFAULT '',
	reason    TEXT    NOT NULL DEFAULT '',
	code_id   INTEGER,
	code_kind TEXT    NOT NULL DEFAULT '',
	slot      INTEGER,
	details   TEXT    NOT NULL DEFAULT '{}',
	uid       INTEGER
);
`

// schemaV2 adds the wrong-entry budget to the lockout row (see
// lockout.go) and a class to audit events, so that each class is pruned
// on its own and refusals anyone can cause never push out grants and
// changes (see audit.go). The UPDATEs classify the events already there
// by the rule of auditClass.
const schemaV2 = `
ALTER TABLE lockout ADD COLUMN level_milli INTEGER NOT NULL DEFAULT 0;

ALTER TABLE audit ADD COLUMN class INTEGER NOT NULL DEFAULT 0;
UPDATE audit SET class = 1 WHERE source IN ('keypad', 'card') AND kind IN ('denied', 'refused');
UPDATE audit SET class = 2 WHERE kind = 'access-denied';
CREATE INDEX audit_class ON audit (class, id);
`

// schemaV3 splits codes into users and their credentials (users.go): a
// user keeps what a code had (kind, keypad slot, label, schedule, uses)
// and holds PINs and cards, each a keyed digest. Every code becomes a
// user with one PIN credential of the same id, so the audit log's code
// ids and the keypad slots keep their meaning. The sequences start above
// every id codes ever gave out: ids are never reused.
const schemaV3 = `
CREATE TABLE users (
	id               INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused
	kind             TEXT    NOT NULL,
	slot             INTEGER UNIQUE CHECK (slot >= 1),
	label            TEXT    NOT NULL DEFAULT '',
	enabled          INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
	weekdays         INTEGER NOT NULL DEFAULT 0,
	from_min         INTEGER NOT NULL DEFAULT 0,
	until_min        INTEGER NOT NULL DEFAULT 0,
	valid_from_us    INTEGER,
	valid_until_us   INTEGER,
	uses_left        INTEGER,            -- NULL: unlimited
	uses             INTEGER NOT NULL DEFAULT 0,
	created_us       INTEGER NOT NULL,
	last_used_us     INTEGER,
	two_factor       INTEGER NOT NULL DEFAULT 0 CHECK (two_factor IN (0, 1)),
	expire_after_min INTEGER,            -- after-first-use: minutes valid from the first use
	first_used_us    INTEGER,            -- after-first-use: when it was first granted
	CHECK ((kind = 'admin') = (slot IS NULL))
);
CREATE UNIQUE INDEX users_one_admin ON users (kind) WHERE kind = 'admin';

-- A PIN's digest is under the code domain, a card's under the card
-- domain (digest.go): one UNIQUE column holds both.
CREATE TABLE credentials (
	id         INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: the audit log's code_id
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	type       TEXT    NOT NULL CHECK (type IN ('pin', 'card')),
	digest     BLOB    NOT NULL UNIQUE CHECK (length(digest) = 32),
	created_us INTEGER NOT NULL
);
CREATE INDEX credentials_user ON credentials (user_id);

-- code_affixes under its new owner: a PIN's sealed affix list.
CREATE TABLE credential_affixes (
	credential_id INTEGER PRIMARY KEY REFERENCES credentials (id) ON DELETE CASCADE,
	sealed        BLOB NOT NULL
);

INSERT INTO users (id, kind, slot, label, enabled, weekdays, from_min, until_min, valid_from_us,
	valid_until_us, uses_left, uses, created_us, last_used_us)
	SELECT id, kind, slot, label, enabled, weekdays, from_min, until_min, valid_from_us,
	valid_until_us, uses_left, uses, created_us, last_used_us FROM codes;
INSERT INTO credentials (id, user_id, type, digest, created_us)
	SELECT id, id, 'pin', digest, created_us FROM codes;
INSERT INTO credential_affixes (credential_id, sealed) SELECT code_id, sealed FROM code_affixes;

INSERT INTO sqlite_sequence (name, seq) SELECT t.name, 0 FROM (SELECT 'users' AS name UNION ALL SELECT 'credentials') t
	WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence q WHERE q.name = t.name);
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'codes'), 0))
	WHERE name IN ('users', 'credentials');

DROP TABLE code_affixes;
DROP TABLE codes;
`

// backupName is the copy made before migrating away from version v.
func backupName(path string, v int) string { return fmt.Sprintf("%s.v%d.bak", path, v) }

func userVersion(ctx context.Context, db *sql.DB) (int, error) {
	var v int
	err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

// migrate brings db from version from to len(migs). A database that has
// data (from > 0) is first copied with VACUUM INTO to path.vFROM.bak, the
// copy a rollback to the previous lockd restores. Each step commits with
// its version number, so a crash resumes at the step that did not commit.
func migrate(ctx context.Context, db *sql.DB, path string, from int, migs []migration) error {
	if from > 0 && from < len(migs) {
		if err := backup(ctx, db, backupName(path, from)); err != nil {
			return err
		}
	}
	for v := from; v < len(migs); v++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("codes: migrate to v%d: %w", v+1, err)
		}
		_, err = tx.ExecContext(ctx, migs[v].sql)
		if err == nil {
			_, err = tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1))
		}
		if err == nil {
			err = tx.Commit()
		} else {
			tx.Rollback()
		}
		if err != nil {
			return fmt.Errorf("codes: migrate to v%d (%s): %w", v+1, migs[v].name, err)
		}
	}
	return nil
}

// backup writes a consistent copy of db to dst, replacing an older copy
// only once the new one is complete and synced.
func backup(ctx context.Context, db *sql.DB, dst string) error {
	tmp := dst + ".tmp"
	os.Remove(tmp) // a leftover of an interrupted backup; VACUUM INTO refuses to overwrite
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		return fmt.Errorf("codes: back up to %s: %w", dst, err)
	}
	f, err := os.Open(tmp)
	if err == nil {
		err = f.Sync()
		f.Close()
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		return fmt.Errorf("codes: back up to %s: %w", dst, err)
	}
	return syncDir(filepath.Dir(dst))
}

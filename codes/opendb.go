package codes

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// dsn sets what every connection of the pool needs. go-sqlite3 defaults
// to synchronous=NORMAL in WAL mode, which can lose the last commits on a
// power cut: FULL syncs the WAL on every commit. Immediate transactions
// take the write lock at BEGIN, so two writers never deadlock upgrading.
func dsn(path string) string {
	return path + "?_journal_mode=WAL&_synchronous=FULL&_foreign_keys=on&_busy_timeout=5000&_txlock=immediate&_cache_size=-8000"
}

// openDB opens the database, dealing with corruption, a newer schema and
// a database of another key; each of those moves a file aside and tries
// again, a bounded number of times.
func (s *Store) openDB(ctx context.Context, migs []migration) (*sql.DB, error) {
	if err := finishRestore(s.path); err != nil {
		return nil, err
	}
	for attempt := 0; attempt < 4; attempt++ {
		if err := s.prepareFile(); err != nil {
			return nil, err
		}
		db, again, err := s.tryOpen(ctx, migs)
		if err != nil || !again {
			return db, err
		}
	}
	return nil, fmt.Errorf("codes: open %s: still failing after moving files aside: %w", s.path, ErrCorrupt)
}

// tryOpen opens the database once. It returns again=true when it moved a
// file aside or restored a copy and the caller should open anew.
//
// A corrupt database is moved aside (kept for analysis, never deleted or
// overwritten) and the store starts empty, which means unprovisioned.
// Refusing to start instead was considered and rejected:
//   - Safety: an empty store grants nothing. The keypad accepts only the
//     unit's own setup code, whose digest lives outside the database
//     (setup.digest) for exactly this reason, and only to set a new admin
//     code. No default code comes back, nothing opens that the owner did
//     not set up.
//   - Availability: refusing leaves the owner's keypad dead until someone
//     with a shell repairs the file; starting empty lets the owner recover
//     at the door with the code on the label, which is the recovery path
//     the label exists for.
//   - Cost: codes, lockout count and audit log are lost from service (not
//     from disk). The lost lockout count matters least: corruption is not
//     something a person at the keypad can cause.
//
// The caller learns it from a Warn notice (NoticeCorrupt) and should keep
// a health warning up until the owner has seen it.
func (s *Store) tryOpen(ctx context.Context, migs []migration) (db *sql.DB, again bool, err error) {
	db, err = sql.Open("sqlite3", dsn(s.path))
	if err != nil {
		return nil, false, fmt.Errorf("codes: open %s: %w", s.path, err)
	}
	defer func() {
		if err != nil && db != nil {
			db.Close()
			db = nil
		}
	}()
	if err := quickCheck(ctx, db); err != nil {
		if !isCorrupt(err) {
			return db, false, fmt.Errorf("codes: open %s: %w", s.path, err)
		}
		db.Close()
		aside, merr := moveAside(s.path, "corrupt", s.opts.Now())
		if merr != nil {
			return nil, false, fmt.Errorf("codes: %s is corrupt (%v) and could not be moved aside: %w: %w", s.path, err, ErrCorrupt, merr)
		}
		s.notice(NoticeCorrupt, aside, fmt.Sprintf("database failed its integrity check (%v); moved aside to %s and started empty: the unit is unprovisioned until its owner sets it up again with the setup code on its label", err, aside), true)
		return nil, true, nil
	}
	v, err := userVersion(ctx, db)
	if err != nil {
		return db, false, fmt.Errorf("codes: open %s: %w", s.path, err)
	}
	if v > len(migs) {
		db.Close()
		return nil, true, s.restoreOwnVersion(ctx, v, len(migs))
	}
	if v > 0 {
		ours, err := s.checkKeyID(ctx, db)
		if err != nil {
			return db, false, err
		}
		if !ours {
			db.Close()
			aside, err := moveAside(s.path, "other-key", s.opts.Now())
			if err != nil {
				return nil, false, err
			}
			s.notice(NoticeOtherKey, aside, "database was made under another device key (its codes cannot be checked); moved aside to "+aside+" and started empty (unprovisioned)", true)
			return nil, true, nil
		}
	}
	if err := migrate(ctx, db, s.path, v, migs); err != nil {
		return db, false, err
	}
	if v > 0 && v < len(migs) {
		s.notice(NoticeMigrated, backupName(s.path, v), fmt.Sprintf("database schema upgraded from v%d to v%d; the old version is kept in %s", v, len(migs), backupName(s.path, v)), false)
	}
	if _, err := db.ExecContext(ctx, "INSERT OR IGNORE INTO meta (key, value) VALUES ('key_id', ?)", s.dig.keyID()); err != nil {
		return db, false, fmt.Errorf("codes: open %s: %w", s.path, err)
	}
	return db, false, nil
}

// checkKeyID reports whether db was made under this device key. A
// database without a key id (a crash right after creating it) is adopted.
func (s *Store) checkKeyID(ctx context.Context, db *sql.DB) (bool, error) {
	var id []byte
	err := db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'key_id'").Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("codes: open %s: %w", s.path, err)
	}
	return string(id) == string(s.dig.keyID()), nil
}

// checkFailed is a quick_check that ran and found problems.
type checkFailed struct{ first string }

func (e *checkFailed) Error() string {
	return "quick_check: " + strings.Join(strings.Fields(e.first), " ")
}

// quickCheck runs PRAGMA quick_check: O(size) but without the index
// cross-checks of integrity_check, a few ms for 10,000 codes.
func quickCheck(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, "PRAGMA quick_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	var res []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return err
		}
		res = append(res, r)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(res) != 1 || res[0] != "ok" {
		first := "no result"
		if len(res) > 0 {
			first = res[0]
		}
		return &checkFailed{first}
	}
	return nil
}

// isCorrupt tells corruption (move the file aside) from trouble that is
// not the file's fault (I/O errors, permissions, a full disk: report).
func isCorrupt(err error) bool {
	var cf *checkFailed
	if errors.As(err, &cf) {
		return true
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.Code == sqlite3.ErrCorrupt || se.Code == sqlite3.ErrNotADB
	}
	return false
}

// prepareFile creates a missing database file with mode 0600 (SQLite
// would use the umask; the audit log is nobody else's business), first
// moving aside a WAL left without its database, which SQLite would
// otherwise replay into the new file.
func (s *Store) prepareFile() error {
	if exists(s.path) {
		return nil
	}
	if exists(s.path+"-wal") || exists(s.path+"-shm") {
		if _, err := moveAside(s.path, "orphan", s.opts.Now()); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("codes: create %s: %w", s.path, err)
	}
	return f.Close()
}

// finishRestore completes a restore that a crash interrupted between
// moving the newer database aside and renaming the copy into place.
func finishRestore(path string) error {
	tmp := path + ".restore"
	if !exists(tmp) {
		return nil
	}
	if exists(path) { // crashed before the newer file was moved: redo it all
		return os.Remove(tmp)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("codes: finish restore of %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

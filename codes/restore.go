package codes

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// restoreOwnVersion handles a database of schema version v newer than
// this binary's cur, which is what booting back into the previous slot
// after an upgrade produces. It goes back to the copy made before the
// upgrade migrated away from cur: the copy is written next to the
// database and synced, the newer database (and WAL) is moved aside, and
// the copy renamed into place (finishRestore completes that rename after
// a crash). The lockout of the newer file is carried over so a rollback
// never shortens a lockout. Without a copy it refuses: guessing at a
// newer schema could grant what the newer lockd had revoked.
//
// Changes made since the upgrade are lost: codes added since are gone and
// codes removed since are back. The notice says so, and the owner is told
// to check the list.
func (s *Store) restoreOwnVersion(ctx context.Context, v, cur int) error {
	bak := backupName(s.path, cur)
	if !exists(bak) {
		return fmt.Errorf("codes: %s has schema v%d, this lockd understands up to v%d, and there is no copy %s to go back to; the file is left as it is: %w",
			s.path, v, cur, filepath.Base(bak), ErrNewerSchema)
	}
	tmp := s.path + ".restore"
	if err := copyFileSynced(bak, tmp); err != nil {
		return err
	}
	aside, err := moveAside(s.path, fmt.Sprintf("v%d-newer", v), s.opts.Now())
	if err != nil {
		return err
	}
	s.carry = readLockoutRow(ctx, aside)
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("codes: restore %s: %w", bak, err)
	}
	if err := syncDir(filepath.Dir(s.path)); err != nil {
		return err
	}
	s.notice(NoticeRestored, aside, fmt.Sprintf("database was written by a newer lockd (schema v%d, kept as %s); restored %s, the copy made before that upgrade: codes added since are gone and codes removed since are back, check the code list",
		v, aside, filepath.Base(bak)), true)
	return nil
}

// readLockoutRow reads the lockout row of another database file, read
// only; nil if it cannot (the newer schema may have changed it).
func readLockoutRow(ctx context.Context, path string) *lockoutRow {
	u := url.URL{Scheme: "file", Path: path, RawQuery: "mode=ro"}
	db, err := sql.Open("sqlite3", u.String())
	if err != nil {
		return nil
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var r lockoutRow
	err = db.QueryRowContext(ctx, lockoutSelect).Scan(r.fields()...)
	if err != nil {
		return nil
	}
	return &r
}

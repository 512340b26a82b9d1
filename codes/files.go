package codes

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// The database's companions. SQLite finds a WAL by appending to the
// database name, so files moved aside keep their WAL and stay readable.
var dbCompanions = []string{"-wal", "-shm"}

// moveAside renames the database at path and its WAL to
// path.TAG-TIMESTAMP (never overwriting anything) and returns the new
// name. The WAL goes first: a crash half-way must never leave an old WAL
// next to a new database file, which SQLite would replay into it.
func moveAside(path, tag string, now time.Time) (string, error) {
	base := fmt.Sprintf("%s.%s-%s", path, tag, now.UTC().Format("20060102T150405Z"))
	aside := base
	for i := 2; exists(aside) || exists(aside+"-wal"); i++ {
		aside = fmt.Sprintf("%s-%d", base, i)
	}
	for _, c := range append(dbCompanions, "") {
		err := os.Rename(path+c, aside+c)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("codes: move %s aside: %w", path+c, err)
		}
	}
	return aside, syncDir(filepath.Dir(path))
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// writeFileAtomicAs replaces path with data: a temporary file is written,
// synced and renamed over path, then the directory is synced.
// The file is given to owner (NoOwner: left to the caller) before the
// rename.
func writeFileAtomicAs(path string, data []byte, perm os.FileMode, owner Owner) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("codes: write %s: %w", path, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("codes: write %s: %w", path, err)
	}
	if owner != NoOwner {
		if err := f.Chown(owner.UID, owner.GID); err != nil {
			return fmt.Errorf("codes: write %s: %w", path, err)
		}
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("codes: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("codes: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("codes: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("codes: write %s: %w", path, err)
	}
	ok = true
	return syncDir(dir)
}

// copyFileSynced copies src to dst (created or truncated) and syncs dst.
func copyFileSynced(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("codes: copy %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("codes: copy to %s: %w", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("codes: copy to %s: %w", dst, err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return fmt.Errorf("codes: copy to %s: %w", dst, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("codes: copy to %s: %w", dst, err)
	}
	return nil
}

// syncDir makes renames and creations in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("codes: sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("codes: sync %s: %w", dir, err)
	}
	return nil
}

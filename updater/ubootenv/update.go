package ubootenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// Update changes the variables in set, in one write of one copy: a
// non-empty value sets a variable, an empty one deletes it (as `setenv
// name` with no value does in U-Boot). Every name and value is checked
// before anything is written (ErrInvalid, ErrReadOnly), and so is the size
// (ErrTooLarge). It needs a valid environment (ErrNoValidEnv) and writes
// nothing when set changes nothing, as fw_setenv does. The copy written is
// the one not in use (redundant) or the only one; see the package
// documentation for what a power cut during the write leaves behind.
func (e *Env) Update(ctx context.Context, set map[string]string) error {
	names := slices.Sorted(maps.Keys(set)) // the same error for the same input
	for _, n := range names {
		if err := checkVar(n, set[n], false); err != nil {
			return err
		}
	}
	release, err := e.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	s, err := e.load(ctx)
	if err != nil {
		return err
	}
	next := maps.Clone(s.vars)
	ro := protected(s.vars[flagsVar])
	changed := false
	for _, n := range names {
		v := set[n]
		old, exists := next[n]
		if (v == "" && !exists) || (v != "" && exists && old == v) {
			continue
		}
		if exists && ro[n] {
			return fmt.Errorf("%w: %q (%s=%s)", ErrReadOnly, n, flagsVar, s.vars[flagsVar])
		}
		if v == "" {
			delete(next, n)
		} else {
			next[n] = v
		}
		changed = true
	}
	if !changed {
		return nil
	}
	return e.write(ctx, s, next)
}

// WriteAll replaces the whole environment with vars, whatever the copies
// hold, valid or not: it is how an image build or a repair creates an
// environment. vars must be complete: a U-Boot that keeps its environment
// in a file (uboot.env on FAT) uses exactly what it finds there, so an
// environment without U-Boot's defaults (bootcmd, ...) leaves the board at
// its prompt. A variable with an empty value is left out, as U-Boot
// cannot hold one either.
func (e *Env) WriteAll(ctx context.Context, vars map[string]string) error {
	all := make(map[string]string, len(vars))
	for _, n := range slices.Sorted(maps.Keys(vars)) {
		if err := checkVar(n, vars[n], true); err != nil {
			return err
		}
		if vars[n] != "" {
			all[n] = vars[n]
		}
	}
	release, err := e.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	s, err := e.load(ctx)
	if err != nil && !errors.Is(err, ErrNoValidEnv) {
		return err
	}
	return e.write(ctx, s, all)
}

// write stores vars in the copy that is not in use, numbered one past the
// copy in use (libubootenv's libuboot_env_store).
func (e *Env) write(ctx context.Context, s *snapshot, vars map[string]string) error {
	data, err := encodeData(vars, e.size-headerSize(e.redundant))
	if err != nil {
		return err
	}
	target, flags := 0, byte(0)
	if e.redundant {
		target, flags = 1-s.cur, s.flags[s.cur]+1
	}
	block := encodeBlock(data, e.redundant, flags)
	if err := ctx.Err(); err != nil { // the last moment a cancel leaves everything as it was
		return fmt.Errorf("ubootenv: write: %w", err)
	}
	d := e.copies[target]
	if !e.redundant && wholeFile(d) {
		err = e.replaceFile(d, block)
	} else {
		err = e.writeInPlace(d, block)
	}
	if err != nil {
		return fmt.Errorf("ubootenv: write copy %d, %s: %w", target+1, d, err)
	}
	return nil
}

// wholeFile reports whether a copy is a plain file of its own, which can be
// replaced by a rename.
func wholeFile(d device) bool {
	if d.block || d.offset != 0 {
		return false
	}
	fi, err := os.Stat(d.path)
	return err == nil && fi.Mode().IsRegular() && fi.Size() <= d.Size
}

// writeInPlace overwrites a copy with one write, then fsyncs it.
func (e *Env) writeInPlace(d device, block []byte) error {
	f, err := e.st.Open(d.path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if err := writeSync(f, block, d.offset); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// replaceFile replaces a copy that is a file of its own (ReplaceFile),
// keeping its permissions.
func (e *Env) replaceFile(d device, block []byte) error {
	perm := os.FileMode(0o644)
	if fi, err := os.Stat(d.path); err == nil {
		perm = fi.Mode().Perm()
	}
	return ReplaceFile(e.st, d.path, block, perm)
}

// ReplaceFile replaces the file at path with data through st, so that a
// power cut leaves the old or the new file: a temporary file beside it
// (fixed name, so one left by a power cut is removed and reused, never
// piled up; created with O_EXCL, so nothing planted there is written
// through), written and fsynced, renamed over path, path fsynced again,
// then the directory. The second fsync is for vfat (the Pi's boot
// partition, where uboot.env and autoboot.txt live): it writes a file's
// directory entry with the file, not with the directory, so without it a
// power cut after the rename left the entry pointing at clusters the
// rename had freed (found by the e2e rig). The updater's state file and
// the tryboot backend use it too.
func ReplaceFile(st Storage, path string, data []byte, perm fs.FileMode) error {
	dir, base := filepath.Split(path)
	tmp := filepath.Join(dir, "."+base+".lockd-tmp")
	const flag = os.O_CREATE | os.O_EXCL | os.O_WRONLY
	f, err := st.Open(tmp, flag, perm)
	if errors.Is(err, fs.ErrExist) {
		if err = st.Remove(tmp); err == nil {
			f, err = st.Open(tmp, flag, perm)
		}
	}
	if err != nil {
		return err
	}
	err = writeSync(f, data, 0)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = st.Rename(tmp, path)
	}
	if err != nil {
		_ = st.Remove(tmp) // best effort: a leftover is removed next time
		return err
	}
	if err := syncPath(st, path); err != nil {
		return err
	}
	return st.SyncDir(filepath.Clean(dir))
}

// syncPath fsyncs the file at path.
func syncPath(st Storage, path string) error {
	f, err := st.Open(path, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeSync writes block at off in one call and fsyncs it.
func writeSync(f Device, block []byte, off int64) error {
	n, err := f.WriteAt(block, off)
	if err == nil && n < len(block) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return err
	}
	return f.Sync()
}

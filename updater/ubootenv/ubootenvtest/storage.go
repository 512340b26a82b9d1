// Package ubootenvtest holds fakes for tests of code that uses
// package ubootenv: a Storage that cuts the power after any operation.
package ubootenvtest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"lockd.dev/lockd/updater/ubootenv"
)

// ErrPowerCut is what every operation returns once the power is cut.
var ErrPowerCut = errors.New("ubootenvtest: power cut")

// Storage wraps a Storage (ubootenv.OS when Base is nil) and cuts the
// power at the CutAt-th operation that changes storage (counting from 1;
// 0 never cuts). The operation cut does not happen, except a WriteAt,
// which tears: its first Torn bytes reach storage (all but one byte if
// Torn is negative or too large; 0 leaves it unwritten). From then on every
// operation fails with ErrPowerCut, reads included, as the machine is off.
// Ops logs the storage-changing operations that completed. Change fields
// only while nothing uses the Storage.
//
// With LoseUnsynced, the cut also loses what a disk cache would: every
// write to a file since that file's last Sync is undone (its old bytes and
// length come back), also when the file was renamed meanwhile. Code that
// forgets an fsync before it relies on the data then fails the tests.
// Directory entries (creates, renames) are kept: the model is data loss,
// not a file system's ordering of metadata.
type Storage struct {
	Base         ubootenv.Storage
	CutAt        int
	Torn         int
	LoseUnsynced bool

	mu   sync.Mutex
	n    int
	cut  bool
	Ops  []string
	undo map[string]*unsynced // by the file's current path
}

// unsynced is one file's writes since its last Sync, oldest first.
type unsynced struct {
	path   string
	writes []undoWrite
}

// undoWrite restores what one WriteAt overwrote.
type undoWrite struct {
	off  int64
	old  []byte
	size int64 // the file's size before the write
}

var _ ubootenv.Storage = &Storage{}

// step counts one storage-changing operation and reports whether the power
// is cut at it. An operation after the cut fails too.
func (s *Storage) step(op string) (cutNow bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cut {
		return false, ErrPowerCut
	}
	s.n++
	if s.CutAt > 0 && s.n == s.CutAt {
		s.cut = true
		if s.LoseUnsynced {
			s.loseUnsynced()
		}
		return true, nil
	}
	s.Ops = append(s.Ops, op)
	return false, nil
}

// Cut reports whether the power has been cut.
func (s *Storage) Cut() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cut
}

func (s *Storage) base() ubootenv.Storage {
	if s.Base == nil {
		return ubootenv.OS{}
	}
	return s.Base
}

// Open implements ubootenv.Storage; creating or truncating is a change.
func (s *Storage) Open(path string, flag int, perm fs.FileMode) (ubootenv.Device, error) {
	if flag&(os.O_CREATE|os.O_TRUNC) != 0 {
		if cutNow, err := s.step("create " + path); cutNow || err != nil {
			return nil, ErrPowerCut
		}
	} else if s.Cut() {
		return nil, ErrPowerCut
	}
	d, err := s.base().Open(path, flag, perm)
	if err != nil {
		return nil, err
	}
	if flag&os.O_TRUNC != 0 {
		s.forget(path)
	}
	return &device{s: s, d: d, path: path, u: s.file(path)}, nil
}

// Rename implements ubootenv.Storage. Unsynced writes move with the file;
// those of the file it replaces are gone with it.
func (s *Storage) Rename(oldpath, newpath string) error {
	if cutNow, err := s.step("rename " + oldpath + " " + newpath); cutNow || err != nil {
		return ErrPowerCut
	}
	if err := s.base().Rename(oldpath, newpath); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if replaced, ok := s.undo[newpath]; ok {
		replaced.writes, replaced.path = nil, "" // gone with its file
		delete(s.undo, newpath)
	}
	if u, ok := s.undo[oldpath]; ok {
		u.path = newpath
		s.undo[newpath] = u
		delete(s.undo, oldpath)
	}
	return nil
}

// file returns the unsynced-writes record of the file now at path.
func (s *Storage) file(path string) *unsynced {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.undo == nil {
		s.undo = map[string]*unsynced{}
	}
	u, ok := s.undo[path]
	if !ok {
		u = &unsynced{path: path}
		s.undo[path] = u
	}
	return u
}

// remember records what a write at off of n bytes to file u overwrites,
// for LoseUnsynced.
func (s *Storage) remember(d ubootenv.Device, u *unsynced, off int64, n int) {
	if !s.LoseUnsynced {
		return
	}
	size := int64(-1)
	if st, ok := d.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := st.Stat(); err == nil {
			size = fi.Size()
		}
	}
	old := make([]byte, n)
	m, _ := d.ReadAt(old, off)
	s.mu.Lock()
	defer s.mu.Unlock()
	u.writes = append(u.writes, undoWrite{off: off, old: old[:m], size: size})
}

// synced forgets the unsynced writes of file u: they reached the medium.
func (s *Storage) synced(u *unsynced) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u.writes = nil
}

// loseUnsynced undoes every write not followed by a Sync of its file,
// newest first. Called with s.mu held, at the cut.
func (s *Storage) loseUnsynced() {
	for _, u := range s.undo {
		ws := u.writes
		if len(ws) == 0 || u.path == "" {
			continue
		}
		f, err := os.OpenFile(u.path, os.O_WRONLY, 0)
		if err != nil {
			continue // removed since: nothing to restore
		}
		for i := len(ws) - 1; i >= 0; i-- {
			w := ws[i]
			f.WriteAt(w.old, w.off)
			if w.size >= 0 {
				if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > w.size {
					f.Truncate(w.size)
				}
			}
		}
		f.Close()
	}
	s.undo = nil
}

// Remove implements ubootenv.Storage.
func (s *Storage) Remove(path string) error {
	if cutNow, err := s.step("remove " + path); cutNow || err != nil {
		return ErrPowerCut
	}
	if err := s.base().Remove(path); err != nil {
		return err
	}
	s.forget(path)
	return nil
}

// forget detaches the unsynced writes of the file at path, removed or
// truncated: there is nothing left to restore them into.
func (s *Storage) forget(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.undo[path]; ok {
		u.writes, u.path = nil, ""
		delete(s.undo, path)
	}
}

// SyncDir implements ubootenv.Storage.
func (s *Storage) SyncDir(dir string) error {
	if cutNow, err := s.step("syncdir " + dir); cutNow || err != nil {
		return ErrPowerCut
	}
	return s.base().SyncDir(dir)
}

// device is an open file of a Storage.
type device struct {
	s    *Storage
	d    ubootenv.Device
	path string
	u    *unsynced // follows the file through renames
}

func (d *device) ReadAt(p []byte, off int64) (int, error) {
	if d.s.Cut() {
		return 0, ErrPowerCut
	}
	return d.d.ReadAt(p, off)
}

func (d *device) WriteAt(p []byte, off int64) (int, error) {
	cutNow, err := d.s.step(fmt.Sprintf("write %s %d+%d", d.path, off, len(p)))
	if err != nil {
		return 0, err
	}
	if !cutNow {
		d.s.remember(d.d, d.u, off, len(p))
		return d.d.WriteAt(p, off)
	}
	torn := d.s.Torn
	if torn < 0 || torn >= len(p) {
		torn = len(p) - 1
	}
	n, _ := d.d.WriteAt(p[:torn], off)
	return n, ErrPowerCut
}

func (d *device) Sync() error {
	if cutNow, err := d.s.step("sync " + d.path); cutNow || err != nil {
		return ErrPowerCut
	}
	if err := d.d.Sync(); err != nil {
		return err
	}
	d.s.synced(d.u)
	return nil
}

// Close always closes the underlying file, so a test leaks nothing.
func (d *device) Close() error { return d.d.Close() }

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
type Storage struct {
	Base  ubootenv.Storage
	CutAt int
	Torn  int

	mu  sync.Mutex
	n   int
	cut bool
	Ops []string
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
	return &device{s: s, d: d, path: path}, nil
}

// Rename implements ubootenv.Storage.
func (s *Storage) Rename(oldpath, newpath string) error {
	if cutNow, err := s.step("rename " + oldpath + " " + newpath); cutNow || err != nil {
		return ErrPowerCut
	}
	return s.base().Rename(oldpath, newpath)
}

// Remove implements ubootenv.Storage.
func (s *Storage) Remove(path string) error {
	if cutNow, err := s.step("remove " + path); cutNow || err != nil {
		return ErrPowerCut
	}
	return s.base().Remove(path)
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
	return d.d.Sync()
}

// Close always closes the underlying file, so a test leaks nothing.
func (d *device) Close() error { return d.d.Close() }

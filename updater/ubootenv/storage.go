package ubootenv

import (
	"io"
	"io/fs"
	"os"
)

// Storage is the seam every environment read and write goes through, so a
// test can cut the power after any single operation
// (ubootenvtest.Storage). OS is the real one. Operations that change
// storage are: Open with os.O_CREATE or os.O_TRUNC, Device.WriteAt,
// Device.Sync, Rename, Remove and SyncDir.
type Storage interface {
	// Open opens a file or block device, with os.OpenFile's flag and perm.
	Open(path string, flag int, perm fs.FileMode) (Device, error)
	// Rename renames a file, replacing newpath.
	Rename(oldpath, newpath string) error
	// Remove removes a file.
	Remove(path string) error
	// SyncDir makes renames in a directory durable.
	SyncDir(dir string) error
}

// Device is one open file or block device.
type Device interface {
	io.ReaderAt
	// WriteAt writes p at off; a short write returns an error.
	io.WriterAt
	// Sync flushes written data to the medium (fsync).
	Sync() error
	io.Closer
}

// OS is the Storage of the running system.
type OS struct{}

var _ Storage = OS{}

// Open implements Storage.
func (OS) Open(path string, flag int, perm fs.FileMode) (Device, error) {
	return os.OpenFile(path, flag, perm)
}

// Rename implements Storage.
func (OS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// Remove implements Storage.
func (OS) Remove(path string) error { return os.Remove(path) }

// SyncDir implements Storage.
func (OS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

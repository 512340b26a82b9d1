package bundle

import (
	"fmt"
	"os"
	"path/filepath"
)

// atomicFile is written under a temporary name next to its final path and
// renamed into place by Commit, so the final path never holds a partial
// bundle, even after a crash.
type atomicFile struct {
	*os.File
	path string
	done bool
}

func createAtomic(path string) (*atomicFile, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("bundle: create %s: %w", path, err)
	}
	return &atomicFile{File: f, path: path}, nil
}

// Commit syncs the file, renames it into place and syncs the directory.
func (a *atomicFile) Commit() error {
	err := a.Sync()
	if cerr := a.File.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(a.Name(), 0o644) // CreateTemp made it 0600
	}
	if err == nil {
		err = os.Rename(a.Name(), a.path)
	}
	if err != nil {
		os.Remove(a.Name())
		return fmt.Errorf("bundle: write %s: %w", a.path, err)
	}
	a.done = true
	return syncDir(filepath.Dir(a.path))
}

// Abort removes the temporary file unless Commit succeeded.
func (a *atomicFile) Abort() {
	if !a.done {
		a.File.Close()
		os.Remove(a.Name())
	}
}

// syncDir makes a rename or create in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("bundle: sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("bundle: sync %s: %w", dir, err)
	}
	return nil
}

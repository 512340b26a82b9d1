package tryboot

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"lockd.dev/lockd/updater/ubootenv"
)

// replace writes data to a temporary file beside path, fsyncs it, renames
// it over path and fsyncs the directory, all through st.
//
// autoboot.txt lives on FAT, and vfat makes no promise that a rename over
// an existing file is atomic across a power cut: it rewrites directory
// entries in place, without a journal, so a cut inside the rename itself
// can leave the old file, the new one or, rarely, neither (State then
// reports the missing file; it never guesses). It is still the better
// risk: overwriting autoboot.txt in place would let the firmware read a
// half-written file, which can name no partition or the wrong one, and a
// cut anywhere but inside the rename leaves a complete old or new file.
//
// The temporary file has a fixed name, so one left by a power cut is
// removed and reused rather than piling up on a small partition. It is
// opened with O_EXCL so that nothing — another writer, a symlink planted
// on the partition — is written through.
func replace(st ubootenv.Storage, path string, data []byte) error {
	dir, base := filepath.Split(path)
	tmp := filepath.Join(dir, "."+base+".lockd-tmp")
	// FAT has no permissions (the mount decides them); 0644 is for tests
	// and other file systems, where autoboot.txt is world-readable anyway.
	const perm = 0o644
	flag := os.O_CREATE | os.O_EXCL | os.O_WRONLY
	d, err := st.Open(tmp, flag, perm)
	if errors.Is(err, fs.ErrExist) {
		if err = st.Remove(tmp); err == nil {
			d, err = st.Open(tmp, flag, perm)
		}
	}
	if err != nil {
		return err
	}
	err = writeSync(d, data)
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = st.Rename(tmp, path)
	}
	if err != nil {
		_ = st.Remove(tmp) // best effort: a leftover is removed next time
		return err
	}
	// vfat writes a file's directory entry with the file, not with the
	// directory: the entry under the new name is durable only once the
	// file is synced again (the e2e rig lost uboot.env this way).
	if err := syncPath(st, path); err != nil {
		return err
	}
	return st.SyncDir(filepath.Clean(dir))
}

// syncPath fsyncs the file at path.
func syncPath(st ubootenv.Storage, path string) error {
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

// writeSync writes data in one call and fsyncs it.
func writeSync(d ubootenv.Device, data []byte) error {
	n, err := d.WriteAt(data, 0)
	if err == nil && n < len(data) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return err
	}
	return d.Sync()
}

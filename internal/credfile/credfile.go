// Package credfile reads a secret that root keeps in a file and systemd
// hands an unprivileged service as a credential (LoadCredential=): the
// fleet token of lockd, the broker login of lockd-mqtt.
package credfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// ErrNotRootOnly is the error of a file that is not root's or that group
// or others may read: its secret may have leaked already.
var ErrNotRootOnly = errors.New("credfile: not readable by root only")

// Read checks that path is a regular file of root's, closed to group and
// others, then reads the copy systemd made as credsDir/name when credsDir
// ($CREDENTIALS_DIRECTORY) holds one, else path itself. The original is
// checked even when the copy is read: a file others can read has leaked
// its secret, whoever reads it now. Errors never hold the content; a
// missing file's error wraps fs.ErrNotExist.
func Read(path, credsDir, name string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("credfile: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("credfile: %s is not a regular file", path)
	}
	if st.Uid != 0 || fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s is owner %d mode %04o: it must be root's and readable by root only (chown root %s; chmod 0600 %s)",
			ErrNotRootOnly, path, st.Uid, fi.Mode().Perm(), path, path)
	}
	read := path
	if credsDir != "" {
		copy := filepath.Join(credsDir, name)
		if _, err := os.Stat(copy); err == nil {
			read = copy
		}
	}
	b, err := os.ReadFile(read)
	if err != nil {
		return nil, fmt.Errorf("credfile: %w", err)
	}
	return b, nil
}

// IsNotExist says whether err is Read's for a missing file.
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// Package statelock gives one process a state directory: lockd's code
// store, lockout, device key and update state must never have two
// writers. Two lockd on one directory would each keep their own lockout
// count in memory (a guesser could alternate between them) and race on
// the updater's state file.
//
// The lock is flock(2) on a file in the directory, so it goes away with
// the process however it ends (a crash or SIGKILL leaves no stale lock),
// and the file holds the owner's PID for the error the next one prints.
package statelock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// FileName is the lock file in the state directory.
const FileName = "lockd.lock"

// ErrBusy means another process holds the state directory.
var ErrBusy = errors.New("state directory in use")

// Lock is a held state directory. Release it, or let the process end.
type Lock struct{ f *os.File }

// Acquire takes dir for this process. If another process holds it, the
// error wraps ErrBusy and names that process's PID.
func Acquire(dir string) (*Lock, error) {
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("statelock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("statelock: %w: %s is held by lockd pid %s; stop that one first (systemctl stop lockd)",
				ErrBusy, dir, owner(f))
		}
		return nil, fmt.Errorf("statelock: lock %s: %w", path, err)
	}
	pid := []byte(strconv.Itoa(os.Getpid()) + "\n")
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt(pid, 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("statelock: write %s: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// owner reads the PID the holder wrote; it may not have written it yet.
func owner(f *os.File) string {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	if pid := strings.TrimSpace(string(b[:n])); pid != "" {
		if _, err := strconv.Atoi(pid); err == nil {
			return pid
		}
	}
	return "(unknown)"
}

// Release gives the directory up. The file stays (removing it would let
// a third process lock a new file while a second waits on the old one).
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the last descriptor drops the flock
	l.f = nil
	if err != nil {
		return fmt.Errorf("statelock: %w", err)
	}
	return nil
}

package ubootenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockPoll is how often a waiter retries a busy flock. flock cannot wait
// on a context, so waiting is a loop; fw_setenv holds the lock for
// milliseconds.
const lockPoll = 5 * time.Millisecond

// acquire takes this Env's turn and libubootenv's lock file, waiting no
// longer than ctx allows. release gives both back.
func (e *Env) acquire(ctx context.Context) (release func(), err error) {
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("ubootenv: waiting for the environment: %w", ctx.Err())
	}
	unlock, err := flock(ctx, e.lockFile)
	if err != nil {
		<-e.sem
		return nil, err
	}
	return func() { unlock(); <-e.sem }, nil
}

// flock takes an exclusive flock on path. As libubootenv does, it goes on
// without the lock when the file cannot be opened (no /var/lock, or a
// read-only file system): the lock only orders cooperating tools.
func flock(ctx context.Context, path string) (unlock func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		// Created by root with mode 0644: flock works on a read-only fd.
		if f, err = os.Open(path); err != nil {
			return func() {}, nil
		}
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing releases the lock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("ubootenv: lock %s: %w", path, err)
		}
		select {
		case <-time.After(lockPoll):
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("ubootenv: lock %s held by another process: %w", path, ctx.Err())
		}
	}
}

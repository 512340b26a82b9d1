package ubootenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// DefaultLockFile is libubootenv's lock file, shared with fw_printenv and
// fw_setenv.
const DefaultLockFile = "/var/lock/fw_printenv.lock"

// Env is a U-Boot environment on storage. It holds no copy of the
// variables: every call reads the copies again, because U-Boot and
// fw_setenv change them behind lockd's back. It is safe for concurrent use.
type Env struct {
	copies    []device
	redundant bool
	size      int
	st        Storage
	lockFile  string
	sem       chan struct{} // one access at a time in this process
}

// device is a configured copy with its path and offset resolved.
type device struct {
	Location
	path   string // symlinks resolved, as libubootenv's realpath does
	offset int64  // never negative
	block  bool   // a block device, not a plain file
}

// Option configures Open.
type Option func(*Env)

// WithStorage replaces the real file system, for fault tests.
func WithStorage(s Storage) Option { return func(e *Env) { e.st = s } }

// WithLockFile replaces DefaultLockFile; "" disables locking.
func WithLockFile(path string) Option { return func(e *Env) { e.lockFile = path } }

// Open checks cfg and the devices it names. The devices must exist; they
// are read only when the environment is. MTD and UBI devices, which
// libubootenv also drives, are refused.
func Open(cfg Config, opts ...Option) (*Env, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	e := &Env{
		redundant: cfg.Redundant(),
		size:      int(cfg.Copies[0].Size),
		st:        OS{},
		lockFile:  DefaultLockFile,
		sem:       make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(e)
	}
	for _, l := range cfg.Copies {
		d, err := resolve(l)
		if err != nil {
			return nil, err
		}
		e.copies = append(e.copies, d)
	}
	if e.redundant {
		a, b := e.copies[0], e.copies[1]
		if a.path == b.path && a.offset < b.offset+b.Size && b.offset < a.offset+a.Size {
			return nil, fmt.Errorf("%w: %s and %s overlap", ErrBadConfig, a, b)
		}
	}
	return e, nil
}

// resolve finds a copy's device and the absolute offset of the copy.
func resolve(l Location) (device, error) {
	if strings.HasPrefix(l.Path, "/dev/mtd") || strings.HasPrefix(l.Path, "/dev/ubi") {
		return device{}, fmt.Errorf("%w: %s: MTD and UBI devices are not supported", ErrBadConfig, l)
	}
	path, err := filepath.EvalSymlinks(l.Path)
	if err != nil {
		return device{}, fmt.Errorf("%w: %s: %w", ErrBadConfig, l, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return device{}, fmt.Errorf("%w: %s: %w", ErrBadConfig, l, err)
	}
	d := device{Location: l, path: path, offset: l.Offset}
	switch m := fi.Mode(); {
	case m.IsRegular():
	case m&os.ModeDevice != 0 && m&os.ModeCharDevice == 0:
		d.block = true
	default:
		return device{}, fmt.Errorf("%w: %s: not a plain file or a block device (%s)", ErrBadConfig, l, m.Type())
	}
	if !d.block {
		if d.offset < 0 {
			return device{}, fmt.Errorf("%w: %s: a negative offset needs a block device", ErrBadConfig, l)
		}
		return d, nil
	}
	size, err := blockSize(path)
	if err != nil {
		return device{}, fmt.Errorf("%w: %s: %w", ErrBadConfig, l, err)
	}
	if d.offset < 0 {
		d.offset += size
	}
	if d.offset < 0 || d.offset+l.Size > size {
		return device{}, fmt.Errorf("%w: %s: ENVSIZE %#x does not fit in the %d-byte device", ErrBadConfig, l, l.Size, size)
	}
	return d, nil
}

// blockSize returns the size of a block device.
func blockSize(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return f.Seek(0, io.SeekEnd)
}

// snapshot is what the copies held when they were read.
type snapshot struct {
	cur   int               // the copy in use (see inUse)
	ok    bool              // cur is valid
	flags []byte            // each copy's flags byte (redundant only)
	vars  map[string]string // the variables of cur, when ok
}

// load reads and checks every copy. A copy that cannot be read whole is
// invalid, as in U-Boot, so its twin can still be used. With no valid copy
// it returns the snapshot and an error wrapping ErrNoValidEnv that says
// what is wrong with each copy.
func (e *Env) load(ctx context.Context) (*snapshot, error) {
	s := &snapshot{flags: make([]byte, len(e.copies))}
	valid := make([]bool, len(e.copies))
	stored := make([][]Var, len(e.copies))
	var reasons []string
	for i, d := range e.copies {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("ubootenv: read: %w", err)
		}
		var err error
		s.flags[i], stored[i], err = e.readCopy(d)
		if err != nil {
			reasons = append(reasons, fmt.Sprintf("copy %d, %s: %s", i+1, d, strings.TrimPrefix(err.Error(), "ubootenv: ")))
			continue
		}
		valid[i] = true
	}
	s.cur, s.ok = inUse(valid, s.flags)
	if !s.ok {
		return s, fmt.Errorf("%w: %s", ErrNoValidEnv, strings.Join(reasons, "; "))
	}
	s.vars = toMap(stored[s.cur])
	return s, nil
}

// readCopy reads one whole copy and checks it.
func (e *Env) readCopy(d device) (byte, []Var, error) {
	f, err := e.st.Open(d.path, os.O_RDONLY, 0)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	b := make([]byte, e.size)
	n, err := f.ReadAt(b, d.offset)
	if n < len(b) {
		if err == nil || errors.Is(err, io.EOF) {
			err = fmt.Errorf("truncated: %d of %d bytes", n, len(b))
		}
		return 0, nil, err
	}
	return decodeBlock(b, e.redundant)
}

// Read returns all variables of the copy in use, .flags included.
func (e *Env) Read(ctx context.Context) (map[string]string, error) {
	release, err := e.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	s, err := e.load(ctx)
	if err != nil {
		return nil, err
	}
	return s.vars, nil
}

// Get returns one variable and whether it is set.
func (e *Env) Get(ctx context.Context, name string) (string, bool, error) {
	vars, err := e.Read(ctx)
	if err != nil {
		return "", false, err
	}
	v, ok := vars[name]
	return v, ok, nil
}

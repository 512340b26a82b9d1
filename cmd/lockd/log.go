package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"lockd.dev/lockd/internal/journal"
)

// newLogger logs to the journal under systemd, to a file in the state
// directory while the terminal panel owns the screen, and to stderr
// otherwise.
func newLogger(stateDir string, panel bool) (*slog.Logger, func(), error) {
	switch {
	case os.Getenv("JOURNAL_STREAM") != "" && journal.Enabled():
		return slog.New(journal.NewHandler(slog.LevelInfo)), func() {}, nil
	case panel:
		path := filepath.Join(stateDir, "lockd.log")
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("log: %w", err)
		}
		return slog.New(slog.NewTextHandler(f, nil)), func() { f.Close() }, nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil)), func() {}, nil
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// ownsTerminal reports whether in and out are terminals and this process
// is in their foreground process group: a background job that switched
// the terminal to raw mode or drew on it would be stopped (SIGTTOU).
func ownsTerminal(in, out *os.File) bool {
	if !isTerminal(in) || !isTerminal(out) {
		return false
	}
	pgrp, err := unix.IoctlGetInt(int(in.Fd()), unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp()
}

// buildStamp is set at link time (-X main.buildStamp=RFC3339) by the
// Makefile and the Yocto recipe.
var buildStamp string

// buildTime is when this binary was built: a clock before it cannot be
// trusted for time-limited codes. Without a stamp, the binary's mtime.
func buildTime() time.Time {
	if t, err := time.Parse(time.RFC3339, buildStamp); err == nil {
		return t
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.time" {
				if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
					return t
				}
			}
		}
	}
	if exe, err := os.Executable(); err == nil {
		if st, err := os.Stat(exe); err == nil {
			return st.ModTime()
		}
	}
	return time.Time{}
}

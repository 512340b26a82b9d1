package main

import (
	"io"
	"log/slog"
	"os"

	"lockd.dev/lockd/internal/journal"
)

// newLogger logs to the journal under systemd, else as text to stderr.
func newLogger(stderr io.Writer) *slog.Logger {
	if os.Getenv("JOURNAL_STREAM") != "" && journal.Enabled() {
		return slog.New(journal.NewHandler(slog.LevelInfo))
	}
	return slog.New(slog.NewTextHandler(stderr, nil))
}

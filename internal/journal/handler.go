// Package journal is a log/slog handler that writes structured entries to
// the systemd journal, one event per entry, attributes as journal fields.
package journal

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/coreos/go-systemd/v22/journal"
)

// Handler sends records to the journal. Attribute keys become upper-case
// journal field names (LOCKD_ prefixed, non-alphanumerics as '_').
type Handler struct {
	level slog.Leveler
	attrs []slog.Attr
	group string
	send  func(msg string, p journal.Priority, vars map[string]string) error
}

var _ slog.Handler = (*Handler)(nil)

// NewHandler returns a handler for records at level or above.
func NewHandler(level slog.Leveler) *Handler {
	return &Handler{level: level, send: journal.Send}
}

// Enabled reports whether the journal socket is there; under systemd it is.
func Enabled() bool { return journal.Enabled() }

// Enabled implements slog.Handler.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

// Handle implements slog.Handler.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	vars := map[string]string{}
	for _, a := range h.attrs {
		addField(vars, "", a)
	}
	r.Attrs(func(a slog.Attr) bool {
		addField(vars, h.group, a)
		return true
	})
	return h.send(r.Message, priority(r.Level), vars)
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &n
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	n := *h
	n.group = strings.TrimPrefix(h.group+"_"+name, "_")
	return &n
}

func addField(vars map[string]string, group string, a slog.Attr) {
	if a.Value.Kind() == slog.KindGroup {
		for _, g := range a.Value.Group() {
			addField(vars, strings.TrimPrefix(group+"_"+a.Key, "_"), g)
		}
		return
	}
	key := a.Key
	if group != "" {
		key = group + "_" + key
	}
	vars[fieldName(key)] = fmt.Sprint(a.Value.Resolve().Any())
}

// fieldName makes a valid journal field name: A-Z, 0-9, _; not starting
// with '_' (reserved for trusted fields).
func fieldName(k string) string {
	var b strings.Builder
	b.WriteString("LOCKD_")
	for _, r := range strings.ToUpper(k) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func priority(l slog.Level) journal.Priority {
	switch {
	case l >= slog.LevelError:
		return journal.PriErr
	case l >= slog.LevelWarn:
		return journal.PriWarning
	case l >= slog.LevelInfo:
		return journal.PriInfo
	}
	return journal.PriDebug
}

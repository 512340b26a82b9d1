package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// logEntry is one audit-log entry (Lock1.Log) or one live Event signal.
// It never holds code digits: lockd never sends them.
type logEntry struct {
	ID       uint64         `json:"id,omitempty"` // 0 for a live event
	Time     time.Time      `json:"time"`
	Kind     string         `json:"kind"`
	Source   string         `json:"source,omitempty"`
	Reason   string         `json:"reason,omitempty"`
	CodeID   int64          `json:"code_id,omitempty"`
	CodeKind string         `json:"code_kind,omitempty"`
	Slot     int64          `json:"slot,omitempty"`
	UID      *int64         `json:"uid,omitempty"` // nil: no D-Bus caller (0 is root)
	Until    *time.Time     `json:"until,omitempty"`
	Details  map[string]any `json:"details,omitempty"` // keys lockctl does not know
}

// knownDetails are the a{sv} keys logEntry has fields for.
var knownDetails = []string{"time", "kind", "source", "reason", "code_id", "code_kind", "slot", "uid", "until", "details"}

// newLogEntry decodes an entry's details; kind comes from the Event
// signal's first argument or, for Log, from the details.
func newLogEntry(id uint64, kind string, d map[string]dbus.Variant) logEntry {
	e := logEntry{ID: id, Kind: kind, Time: vMicros(d, "time"), Source: vString(d, "source"),
		Reason: vString(d, "reason"), CodeKind: vString(d, "code_kind"), Details: plain(d, knownDetails...)}
	if e.Kind == "" {
		e.Kind = vString(d, "kind")
	}
	e.CodeID, _ = vInt(d, "code_id")
	e.Slot, _ = vInt(d, "slot")
	if uid, ok := vInt(d, "uid"); ok && uid >= 0 {
		e.UID = &uid
	}
	if u := vMicros(d, "until"); !u.IsZero() {
		e.Until = &u
	}
	// The audit log's free-form details (a{ss}); a lockout's end is kept
	// there in RFC 3339.
	extra, _ := d["details"].Value().(map[string]string)
	for k, v := range extra {
		if t, err := time.Parse(time.RFC3339, v); err == nil && k == "until" && e.Until == nil {
			e.Until = &t
			continue
		}
		if e.Details == nil {
			e.Details = map[string]any{}
		}
		e.Details[k] = v
	}
	return e
}

// String is the entry as one line of `lockctl log`:
// "2026-11-03 14:02:11  granted          keypad      slot=2 kind=user".
// A code is named by its keypad slot, the one number the owner knows it
// by (codeBySlot); its D-Bus id is in --json only.
func (e logEntry) String() string {
	t := "-"
	if !e.Time.IsZero() {
		t = e.Time.Local().Format(timeLayout)
	}
	var f []string
	if e.Slot != 0 {
		f = append(f, fmt.Sprintf("slot=%d", e.Slot))
	}
	if e.CodeKind != "" {
		f = append(f, "kind="+e.CodeKind)
	}
	if e.Reason != "" {
		f = append(f, "reason="+quoteIfSpace(e.Reason))
	}
	if e.Until != nil {
		f = append(f, "until="+e.Until.Local().Format(timeLayout))
	}
	if e.UID != nil {
		f = append(f, fmt.Sprintf("uid=%d", *e.UID))
	}
	for _, k := range sortedKeys(e.Details) {
		f = append(f, fmt.Sprintf("%s=%s", k, quoteIfSpace(fmt.Sprint(e.Details[k]))))
	}
	src := e.Source
	if src == "" {
		src = "-"
	}
	return sanitize(strings.TrimRight(fmt.Sprintf("%s  %-16s %-11s %s", t, e.Kind, src, strings.Join(f, " ")), " "))
}

func quoteIfSpace(s string) string {
	if strings.ContainsAny(s, " \t\"") || s == "" {
		return fmt.Sprintf("%q", s)
	}
	return s
}

// sameEvent reports whether a live event is the one an audit entry
// recorded, so `log --follow` does not print it twice.
func sameEvent(a, b logEntry) bool {
	return a.Time.Equal(b.Time) && a.Kind == b.Kind && a.Source == b.Source && a.CodeID == b.CodeID
}

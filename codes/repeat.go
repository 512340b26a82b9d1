package codes

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Repeated refusals. A person at the keypad during a lockout, or any local
// user calling a D-Bus method they may not, can cause refusals as fast as
// they like; none of them is counted or checked against a code, so none
// needs a write of its own. Each distinct refusal (kind, source, reason,
// code, caller) gets one row; its repeats only raise that row's count.
// That bounds the flash wear of such a flood to about one write per
// repeatFlush and one new row per repeatSpan per distinct refusal, and
// keeps the log readable.
const (
	repeatFlush = 5 * time.Minute // a pending count is written at least this often while it grows
	repeatSpan  = time.Hour       // one row covers at most this long; then a new row starts
	maxRepeats  = 64              // rows that can still be counted on; the oldest is let go
)

// Details keys of a row that counts repeats.
const (
	DetailCount = "count" // occurrences, the first included (decimal)
	DetailLast  = "last"  // time of the last one (RFC 3339)
)

// repeatRow is a logged refusal that repeats add to.
type repeatRow struct {
	id          int64
	details     map[string]string // as first recorded
	count       int               // occurrences so far
	written     int               // count as last written
	first, last time.Time
	writtenAt   time.Time // event time of the last write of count
}

// repeatable reports whether e is a refusal that nothing counted: not a
// wrong entry (those count towards the lockout, each with its own durable
// write, and the wrong-entry budget bounds them).
func repeatable(e AuditEvent) bool {
	if e.Reason == ReasonPrivacy { // refused in privacy mode without a look at the code
		return auditClass(e) == classKeypad
	}
	switch auditClass(e) {
	case classDenied:
		return true
	case classKeypad:
		// A card refused for what it is (unknown, disabled...) is a
		// wrong entry now that cards are credentials; a frame that did
		// not decode is "refused", like an over-long entry.
		return e.Kind == "refused" || e.Reason == ReasonLockedOut || e.Reason == ReasonUnprovisioned
	}
	return false
}

func repeatKey(e AuditEvent) string {
	return fmt.Sprintf("%s\x00%s\x00%s\x00%d\x00%d", e.Kind, e.Source, e.Reason, e.CodeID, e.UID)
}

// repeat adds e to the row it repeats, if there is one, and reports
// whether it did. It writes only when the count has waited repeatFlush.
func (s *Store) repeat(ctx context.Context, e AuditEvent) (bool, error) {
	if !repeatable(e) {
		return false, nil
	}
	r := s.repeats[repeatKey(e)]
	if r == nil || e.Time.Before(r.last) || e.Time.Sub(r.first) >= repeatSpan {
		return false, nil
	}
	r.count++
	r.last = e.Time
	if e.Time.Sub(r.writtenAt) < repeatFlush {
		return true, nil
	}
	// write flushes every pending count.
	return true, s.write(ctx, func(*sql.Tx) error { return nil })
}

// opened notes a row just inserted for e that repeats can add to.
func (s *Store) opened(e AuditEvent, id int64) {
	if !repeatable(e) {
		return
	}
	if s.repeats == nil {
		s.repeats = map[string]*repeatRow{}
	}
	s.repeats[repeatKey(e)] = &repeatRow{id: id, details: e.Details, count: 1, written: 1,
		first: e.Time, last: e.Time, writtenAt: e.Time}
	if len(s.repeats) <= maxRepeats {
		return
	}
	// Every count was written with the row just inserted: letting the
	// oldest go loses nothing.
	var oldest string
	for k, r := range s.repeats {
		if oldest == "" || r.last.Before(s.repeats[oldest].last) {
			oldest = k
		}
	}
	delete(s.repeats, oldest)
}

// pendingRepeats shows in e (read from the log) the repeats not written
// yet, so readers see the count as it is.
func (s *Store) pendingRepeats(e *AuditEvent) {
	for _, r := range s.repeats {
		if r.id == e.ID && r.count != r.written {
			e.Details = r.countedDetails()
			return
		}
	}
}

// countedDetails is the row's details with its count.
func (r *repeatRow) countedDetails() map[string]string {
	d := make(map[string]string, len(r.details)+2)
	for k, v := range r.details {
		d[k] = v
	}
	d[DetailCount] = strconv.Itoa(r.count)
	d[DetailLast] = r.last.UTC().Format(time.RFC3339Nano)
	return d
}

// flushRepeats writes the pending counts in tx; write marks them written
// once the transaction committed (repeatsWritten).
func (s *Store) flushRepeats(ctx context.Context, tx *sql.Tx) error {
	for _, r := range s.repeats {
		if r.count == r.written {
			continue
		}
		b, err := json.Marshal(r.countedDetails())
		if err != nil {
			return fmt.Errorf("codes: record repeats: %w", err)
		}
		// A row pruned meanwhile updates nothing; its count goes with it.
		if _, err := tx.ExecContext(ctx, "UPDATE audit SET details = ? WHERE id = ?", string(b), r.id); err != nil {
			return fmt.Errorf("codes: record repeats: %w", err)
		}
	}
	return nil
}

func (s *Store) repeatsWritten() {
	for _, r := range s.repeats {
		if r.count != r.written {
			r.written, r.writtenAt = r.count, r.last
		}
	}
}

package codes

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// AuditEvent is one entry of the audit log: the lock core's events
// (entries granted and refused, lock/unlock, door, jam, lockout, code
// changes, setup) and the store's own notices. Nothing in it may contain
// code digits; the store cannot check Details, so callers must not put
// entered digits there.
type AuditEvent struct {
	ID       int64     // assigned by Record; Log pages by it
	Time     time.Time // zero: now
	Kind     string    // required: "entry", "lock", "unlock", "lockout", "code-added", ...
	Source   string    // "keypad", "dbus", "auto-relock", "codes", ...
	Reason   string    // a Reason constant for refusals, or another short word
	CodeID   int64     // 0: none
	CodeKind string
	Slot     int // 0: none
	Details  map[string]string
	UID      int // caller's Unix UID; -1 for none (0 is root)
}

// Limits on what Record accepts, so a buggy caller cannot fill the flash.
const (
	maxAuditField   = 256
	maxAuditDetails = 4096
	maxLogPage      = 1000
)

// Audit classes. Each class keeps its own Retention newest events, so the
// refusals anyone can cause (a person at the keypad, any local user on
// D-Bus) never push grants, duress, setup, code changes, lockouts or
// updates out of the log.
const (
	classEvent  = 0 // everything that is not a refusal below
	classKeypad = 1 // entries and programming steps refused at the keypad or card reader
	classDenied = 2 // D-Bus calls refused for lack of permission
	// classSecurity: alarms raised, ended and acknowledged. Their own
	// class, so that neither noise nor a busy door ever pushes out the
	// record that the door was forced.
	classSecurity = 3
	numClasses    = 4
)

// auditClass is the class of e; schemaV2 applies the same rule to the
// events stored before it.
func auditClass(e AuditEvent) int {
	switch {
	case (e.Source == "keypad" || e.Source == "card") && (e.Kind == "denied" || e.Kind == "refused"):
		return classKeypad
	case e.Kind == "access-denied":
		return classDenied
	case strings.HasPrefix(e.Kind, "alarm"):
		return classSecurity
	}
	return classEvent
}

// Record appends e to the audit log and returns once it is durable. When
// a class holds more than Retention+10% events, its oldest are deleted
// down to Retention in the same transaction, so pruning runs once per
// Retention/10 events rather than on every write.
//
// A refusal that nobody counted (see repeatable) and that repeats one
// already recorded is not a new row and not a write of its own: it adds
// to that row's count ("count", "last" in Details), written with the next
// write, at the latest repeatFlush after the last one written, and on
// Close. A power cut loses at most that much of a count, never the first
// occurrence and never another event.
func (s *Store) Record(ctx context.Context, e AuditEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkOpen(); err != nil {
		return err
	}
	return s.record(ctx, e)
}

func (s *Store) record(ctx context.Context, e AuditEvent) error {
	if e.Kind == "" || len(e.Kind) > maxAuditField || len(e.Source) > maxAuditField ||
		len(e.Reason) > maxAuditField || len(e.CodeKind) > maxAuditField {
		return fmt.Errorf("codes: record: kind missing or a field too long: %w", ErrInvalid)
	}
	if e.Time.IsZero() {
		e.Time = s.opts.Now()
	}
	details := "{}"
	if len(e.Details) > 0 {
		b, err := json.Marshal(e.Details)
		if err != nil {
			return fmt.Errorf("codes: record: %w", err)
		}
		if len(b) > maxAuditDetails {
			return fmt.Errorf("codes: record: details over %d bytes: %w", maxAuditDetails, ErrInvalid)
		}
		details = string(b)
	}
	if done, err := s.repeat(ctx, e); done || err != nil {
		return err
	}
	var codeID, slot, uid any
	if e.CodeID != 0 {
		codeID = e.CodeID
	}
	if e.Slot != 0 {
		slot = e.Slot
	}
	if e.UID >= 0 {
		uid = e.UID
	}
	class := auditClass(e)
	prune := s.auditCount[class]+1 > s.opts.Retention+max(1, s.opts.Retention/10)
	var id int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `INSERT INTO audit (time_us, kind, source, reason, code_id, code_kind, slot, details, uid, class)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, micros(e.Time), e.Kind, e.Source, e.Reason, codeID, e.CodeKind, slot, details, uid, class)
		if err != nil {
			return fmt.Errorf("codes: record: %w", err)
		}
		if id, err = r.LastInsertId(); err != nil {
			return fmt.Errorf("codes: record: %w", err)
		}
		if prune {
			_, err = tx.ExecContext(ctx, "DELETE FROM audit WHERE class = ? AND id <= (SELECT id FROM audit WHERE class = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
				class, class, s.opts.Retention)
			if err != nil {
				return fmt.Errorf("codes: prune audit log: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.auditCount[class]++
	if prune {
		s.auditCount[class] = min(s.auditCount[class], s.opts.Retention)
	}
	s.opened(e, id)
	return nil
}

// Log returns up to limit events with an ID greater than after, oldest
// first (after 0: from the start). limit <= 0 means 100; at most 1000.
func (s *Store) Log(ctx context.Context, after int64, limit int) ([]AuditEvent, error) {
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, maxLogPage)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, time_us, kind, source, reason, coalesce(code_id, 0), code_kind,
		coalesce(slot, 0), details, coalesce(uid, -1) FROM audit WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("codes: log: %w", err)
	}
	defer rows.Close()
	var out []AuditEvent
	for rows.Next() {
		var e AuditEvent
		var t int64
		var details string
		if err := rows.Scan(&e.ID, &t, &e.Kind, &e.Source, &e.Reason, &e.CodeID, &e.CodeKind, &e.Slot, &details, &e.UID); err != nil {
			return nil, fmt.Errorf("codes: log: %w", err)
		}
		e.Time = time.UnixMicro(t)
		if details != "{}" {
			if err := json.Unmarshal([]byte(details), &e.Details); err != nil {
				return nil, fmt.Errorf("codes: log: event %d: %w", e.ID, err)
			}
		}
		s.pendingRepeats(&e)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("codes: log: %w", err)
	}
	return out, nil
}

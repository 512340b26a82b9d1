package codes

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Alarm is a lock alarm the owner has not acknowledged yet, or one
// acknowledged while its condition persists (Acked). The lock core owns
// what alarms mean; the store keeps them so a restart or a power cut
// never silences one.
type Alarm struct {
	Name   string // forced-open, ajar, tamper, ... (lock.Alarm)
	Raised time.Time
	Reason string // a short word or phrase; never code digits
	Acked  bool
}

// Alarms are meta rows "alarm:NAME" holding alarmRow as JSON: a handful
// of rows at most, written only when an alarm is raised, acknowledged or
// ends.
const alarmPrefix = "alarm:"

// maxAlarmName bounds an alarm's name.
const maxAlarmName = 32

type alarmRow struct {
	RaisedUS int64  `json:"raised_us"`
	Reason   string `json:"reason,omitempty"`
	Acked    bool   `json:"acked,omitempty"`
}

// Alarms returns the stored alarms, by name.
func (s *Store) Alarms(ctx context.Context) ([]Alarm, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, "SELECT key, value FROM meta WHERE key > ? AND key < ? ORDER BY key",
		alarmPrefix, alarmPrefix+"\xff")
	if err != nil {
		return nil, fmt.Errorf("codes: read alarms: %w", err)
	}
	defer rows.Close()
	var out []Alarm
	for rows.Next() {
		var key string
		var v []byte
		if err := rows.Scan(&key, &v); err != nil {
			return nil, fmt.Errorf("codes: read alarms: %w", err)
		}
		var r alarmRow
		if err := json.Unmarshal(v, &r); err != nil {
			// A row this store did not write: keep the alarm, which is
			// the safe side, without its details.
			r = alarmRow{Reason: "unreadable record"}
		}
		out = append(out, Alarm{Name: strings.TrimPrefix(key, alarmPrefix), Raised: time.UnixMicro(r.RaisedUS),
			Reason: r.Reason, Acked: r.Acked})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("codes: read alarms: %w", err)
	}
	return out, nil
}

// SaveAlarm stores a (replacing the alarm of that name) and returns once
// it is durable.
func (s *Store) SaveAlarm(ctx context.Context, a Alarm) error {
	if !metaWord(a.Name, maxAlarmName) {
		return invalidf("codes: alarm name %.40q: want a word of a-z and -", a.Name)
	}
	if len(a.Reason) > maxAuditField {
		return invalidf("codes: alarm reason over %d bytes", maxAuditField)
	}
	v, err := json.Marshal(alarmRow{RaisedUS: micros(a.Raised), Reason: a.Reason, Acked: a.Acked})
	if err != nil {
		return fmt.Errorf("codes: save alarm: %w", err)
	}
	return s.putMeta(ctx, alarmPrefix+a.Name, v)
}

// DeleteAlarm removes the alarm called name, if it is stored, and
// returns once that is durable.
func (s *Store) DeleteAlarm(ctx context.Context, name string) error {
	if !metaWord(name, maxAlarmName) {
		return invalidf("codes: alarm name %.40q: want a word of a-z and -", name)
	}
	return s.putMeta(ctx, alarmPrefix+name, nil)
}

package codes

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestOperatingModeSurvivesReopen: the mode is durable when
// SetOperatingMode returns, a fresh database has none, and a name that is
// not a word changes nothing.
func TestOperatingModeSurvivesReopen(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.open()
	if m, err := s.OperatingMode(ctx); err != nil || m != "" {
		t.Fatalf("fresh store: mode %q, %v; want none", m, err)
	}
	writes := s.Writes()
	if err := s.SetOperatingMode(ctx, "privacy"); err != nil {
		t.Fatal(err)
	}
	if s.Writes() != writes+1 {
		t.Errorf("SetOperatingMode made %d durable writes, want 1", s.Writes()-writes)
	}
	for _, bad := range []string{"", "Privacy", "x y", "alarm:tamper", string(make([]byte, 33))} {
		if err := s.SetOperatingMode(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("SetOperatingMode(%q): %v, want ErrInvalid", bad, err)
		}
	}
	s.Close()
	s = e.open()
	if m, err := s.OperatingMode(ctx); err != nil || m != "privacy" {
		t.Fatalf("after reopen: mode %q, %v; want privacy", m, err)
	}
}

// TestAlarmsSurviveReopen: saved alarms come back after a restart with
// their time, reason and acknowledgement; deleted ones do not.
func TestAlarmsSurviveReopen(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.open()
	at := t0.Add(time.Minute)
	want := []Alarm{
		{Name: "forced-open", Raised: at, Reason: "door opened while locked"},
		{Name: "tamper", Raised: at.Add(time.Second), Acked: true},
	}
	for _, a := range append(want, Alarm{Name: "ajar", Raised: at}) {
		if err := s.SaveAlarm(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteAlarm(ctx, "ajar"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAlarm(ctx, "power"); err != nil {
		t.Errorf("deleting an alarm that is not stored: %v", err)
	}
	for _, bad := range []Alarm{{Name: ""}, {Name: "Tamper"}, {Name: "tamper", Reason: string(make([]byte, 300))}} {
		if err := s.SaveAlarm(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("SaveAlarm(%.20q): %v, want ErrInvalid", bad.Name, err)
		}
	}
	// The mode's row is no alarm.
	if err := s.SetOperatingMode(ctx, "vacation"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = e.open()
	got, err := s.Alarms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); d != "" {
		t.Errorf("alarms after reopen (-want +got):\n%s", d)
	}
}

// TestAlarmsHaveTheirOwnAuditClass: alarm events are never pushed out of
// the log by any amount of other events, the lock's own included.
func TestAlarmsHaveTheirOwnAuditClass(t *testing.T) {
	e := newEnv(t)
	e.opts.Retention = 50
	s := e.open()
	ctx := context.Background()
	if err := s.Record(ctx, AuditEvent{Kind: "alarm", Source: "door", Reason: "forced-open", UID: -1}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		e.clk.Advance(time.Second)
		ev := AuditEvent{Kind: "door-open", Source: "door", UID: -1}
		if i%2 == 1 {
			ev.Kind = "door-closed"
		}
		if err := s.Record(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	log, err := s.Log(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) == 0 || log[0].Kind != "alarm" {
		t.Errorf("the alarm was pushed out of the audit log: first entry %v", fmt.Sprint(log[:1]))
	}
}

// TestVacationMode: in vacation mode only users marked for it open; the
// others are refused like a disabled code (counted, the real reason in
// the verdict for the audit log), and a restart keeps the mode; the
// admin code still enters programming mode.
func TestVacationMode(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.open()
	if err := s.SetAdmin(ctx, adminCode, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(ctx, "owner", "24680", AddOptions{Kind: KindUser}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(ctx, "sitter", "97531", AddOptions{Kind: KindUser, Vacation: true}); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Verify(ctx, PurposeOpen, "24680", t0); !v.OK {
		t.Fatalf("owner's code refused in normal mode: %+v", v)
	}
	if err := s.SetOperatingMode(ctx, "vacation"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = e.open()
	v, err := s.Verify(ctx, PurposeOpen, "24680", t0)
	if err != nil || v.OK || v.Reason != ReasonVacation || v.Failures != 1 {
		t.Errorf("owner's code in vacation mode: %+v, %v; want refused as vacation and counted", v, err)
	}
	if v, _ := s.Verify(ctx, PurposeOpen, "97531", t0); !v.OK {
		t.Errorf("the sitter's code refused in vacation mode: %+v", v)
	}
	if v, _ := s.Verify(ctx, PurposeAdmin, adminCode, t0); !v.OK {
		t.Errorf("admin code refused in vacation mode: %+v", v)
	}
	users, err := s.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var marked []string
	for _, u := range users {
		if u.Vacation {
			marked = append(marked, u.Label)
		}
	}
	if fmt.Sprint(marked) != "[sitter]" {
		t.Errorf("users marked for vacation: %v, want [sitter]", marked)
	}
	if err := s.SetOperatingMode(ctx, "normal"); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Verify(ctx, PurposeOpen, "24680", t0); !v.OK {
		t.Errorf("owner's code refused back in normal mode: %+v", v)
	}
}

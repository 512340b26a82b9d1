package codes

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAuditRecordAndLog(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	ctx := context.Background()
	in := []AuditEvent{
		{Time: t0, Kind: "entry", Source: "keypad", Reason: ReasonUnknown, UID: -1},
		{Time: t0.Add(time.Microsecond), Kind: "entry", Source: "keypad", CodeID: 7, CodeKind: "user", Slot: 3, UID: -1},
		{Time: t0.Add(time.Second), Kind: "code-added", Source: "dbus", CodeID: 8, CodeKind: "scheduled", Slot: 4,
			Details: map[string]string{"label": "cleaner", "weekdays": "tue"}, UID: 1000},
		{Kind: "unlock", Source: "dbus", UID: 0},
	}
	for _, ev := range in {
		if err := s.Record(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	in[3].Time = t0
	got, err := s.Log(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		in[i].ID = got[i].ID
	}
	if diff := cmp.Diff(in, got); diff != "" {
		t.Errorf("Log (-want +got):\n%s", diff)
	}
	page, _ := s.Log(ctx, got[1].ID, 1)
	if len(page) != 1 || page[0].ID != got[2].ID {
		t.Errorf("page after %d: %+v", got[1].ID, page)
	}
	for _, bad := range []AuditEvent{{}, {Kind: strings.Repeat("k", 300)},
		{Kind: "x", Details: map[string]string{"big": strings.Repeat("d", 5000)}}} {
		if err := s.Record(ctx, bad); !isErr(err, ErrInvalid) {
			t.Errorf("Record(%.30v) = %v", bad, err)
		}
	}
}

func TestAuditRetention(t *testing.T) {
	e := newEnv(t)
	e.opts.Retention = 100
	s := e.open()
	ctx := context.Background()
	count := func() (n int) {
		s.db.QueryRow("SELECT count(*) FROM audit").Scan(&n)
		return n
	}
	for i := 1; i <= 110; i++ {
		s.Record(ctx, AuditEvent{Kind: fmt.Sprint(i), UID: -1})
	}
	if n := count(); n != 110 {
		t.Fatalf("%d events before the batch limit, want 110", n)
	}
	s.Record(ctx, AuditEvent{Kind: "111", UID: -1})
	if n := count(); n != 100 {
		t.Fatalf("%d events after pruning, want 100", n)
	}
	for i := 112; i <= 1000; i++ {
		s.Record(ctx, AuditEvent{Kind: fmt.Sprint(i), UID: -1})
		if n := count(); n < 100 || n > 110 {
			t.Fatalf("%d events after %d", n, i)
		}
	}
	// The newest are kept, in order; the count survives reopening.
	log, _ := s.Log(ctx, 0, 1000)
	if last := log[len(log)-1]; last.Kind != "1000" || log[0].Kind != fmt.Sprint(1001-len(log)) {
		t.Errorf("kept %s..%s", log[0].Kind, last.Kind)
	}
	s.Close()
	s = e.open()
	if s.auditCount[classEvent] != len(log) {
		t.Errorf("auditCount %d after reopen, want %d", s.auditCount[classEvent], len(log))
	}
}

// TestAuditNoiseNeverEvictsEvents: a flood of keypad refusals and D-Bus
// denials, three times the retention each, leaves every grant, duress
// event and code change in the log.
func TestAuditNoiseNeverEvictsEvents(t *testing.T) {
	e := newEnv(t)
	e.opts.Retention = 100
	s := e.open()
	ctx := context.Background()
	important := []AuditEvent{
		{Kind: "granted", Source: "keypad", CodeID: 2, CodeKind: "user", Slot: 1, UID: -1},
		{Kind: "duress", Source: "keypad", CodeID: 3, CodeKind: "duress", Slot: 2, UID: -1},
		{Kind: "code-added", Source: "dbus", CodeID: 4, CodeKind: "user", Slot: 3, UID: 0},
		{Kind: "lockout", Source: "keypad", UID: -1},
	}
	for _, ev := range important {
		if err := s.Record(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 300; i++ {
		e.clk.Advance(2 * time.Second)
		// Wrong entries: counted, so each is its own row.
		if err := s.Record(ctx, AuditEvent{Kind: "denied", Source: "keypad", Reason: ReasonUnknown, UID: -1}); err != nil {
			t.Fatal(err)
		}
		// Denials from many users: distinct, so rows too.
		if err := s.Record(ctx, AuditEvent{Kind: "access-denied", Source: "dbus", Reason: "io.lockd.Lock1.Unlock", UID: 1000 + i}); err != nil {
			t.Fatal(err)
		}
	}
	log, _ := s.Log(ctx, 0, 1000)
	kept := map[string]bool{}
	perClass := map[int]int{}
	for _, ev := range log {
		kept[ev.Kind] = true
		perClass[auditClass(ev)]++
	}
	for _, ev := range important {
		if !kept[ev.Kind] {
			t.Errorf("%s pushed out of the audit log by noise", ev.Kind)
		}
	}
	for c, n := range perClass {
		if n > 110 {
			t.Errorf("class %d holds %d events, retention 100", c, n)
		}
	}
	if perClass[classKeypad] < 100 || perClass[classDenied] < 100 {
		t.Errorf("noise classes pruned below retention: %v", perClass)
	}
}

// TestAuditRepeatsAreCounted: refusals nobody counts (during a lockout,
// while unprovisioned, D-Bus denials of one caller) are one row with a
// count, written at most every repeatFlush, and the count survives Close.
func TestAuditRepeatsAreCounted(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	ctx := context.Background()
	before := s.Writes()
	const n = 1800 // an hour of one entry every 2 s
	for i := 0; i < n; i++ {
		if err := s.Record(ctx, AuditEvent{Kind: "denied", Source: "keypad", Reason: ReasonLockedOut, UID: -1}); err != nil {
			t.Fatal(err)
		}
		if i < n-1 {
			e.clk.Advance(2 * time.Second)
		}
	}
	writes := s.Writes() - before
	// The first row, then at most one write per repeatFlush.
	if max := int64(1 + n*2*time.Second/repeatFlush); writes > max {
		t.Errorf("%d durable writes for %d repeated refusals, want at most %d", writes, n, max)
	}
	// Readers see the count before it is written.
	if log, _ := s.Log(ctx, 0, 1000); len(log) == 0 || log[len(log)-1].Details[DetailCount] != fmt.Sprint(n) {
		t.Errorf("Log before the flush: %+v, want count %d", log[len(log)-1:], n)
	}
	s.Close()
	s = e.open()
	log, _ := s.Log(ctx, 0, 1000)
	var rows []AuditEvent
	for _, ev := range log {
		if ev.Reason == ReasonLockedOut {
			rows = append(rows, ev)
		}
	}
	if len(rows) != 1 {
		t.Fatalf("%d rows for one repeated refusal, want 1: %+v", len(rows), rows)
	}
	if got := rows[0].Details[DetailCount]; got != fmt.Sprint(n) {
		t.Errorf("count %q, want %d", got, n)
	}
	wantLast := e.clk.Now().UTC().Format(time.RFC3339Nano)
	if got := rows[0].Details[DetailLast]; got != wantLast {
		t.Errorf("last %q, want %q", got, wantLast)
	}
	// Another refusal in between does not split the row; a new hour does.
	s.Record(ctx, AuditEvent{Kind: "denied", Source: "keypad", Reason: ReasonUnprovisioned, UID: -1})
	s.Record(ctx, AuditEvent{Kind: "access-denied", Source: "dbus", Reason: "io.lockd.Lock1.Unlock", UID: 1000})
	for i := 0; i < 10; i++ {
		e.clk.Advance(time.Second)
		s.Record(ctx, AuditEvent{Kind: "denied", Source: "keypad", Reason: ReasonUnprovisioned, UID: -1})
		s.Record(ctx, AuditEvent{Kind: "access-denied", Source: "dbus", Reason: "io.lockd.Lock1.Unlock", UID: 1000})
	}
	e.clk.Advance(repeatSpan)
	s.Record(ctx, AuditEvent{Kind: "denied", Source: "keypad", Reason: ReasonUnprovisioned, UID: -1})
	s.Close()
	s = e.open()
	log, _ = s.Log(ctx, rows[0].ID, 1000)
	var got []string
	for _, ev := range log {
		if ev.Kind != "store" {
			got = append(got, ev.Reason+":"+ev.Details[DetailCount])
		}
	}
	want := []string{ReasonUnprovisioned + ":11", "io.lockd.Lock1.Unlock:11", ReasonUnprovisioned + ":"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows after the first (-want +got):\n%s", diff)
	}
}

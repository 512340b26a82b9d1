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
	if s.auditCount != len(log) {
		t.Errorf("auditCount %d after reopen, want %d", s.auditCount, len(log))
	}
}

package journal

import (
	"log/slog"
	"testing"

	"github.com/coreos/go-systemd/v22/journal"
	"github.com/google/go-cmp/cmp"
)

func TestHandlerFields(t *testing.T) {
	type entry struct {
		Msg  string
		Pri  journal.Priority
		Vars map[string]string
	}
	var got []entry
	h := NewHandler(slog.LevelInfo)
	h.send = func(msg string, p journal.Priority, vars map[string]string) error {
		got = append(got, entry{msg, p, vars})
		return nil
	}
	log := slog.New(h).With("unit", "lockd")
	log.Debug("hidden")
	log.Info("lock event", "kind", "granted", "code-id", 7)
	log.WithGroup("bolt").Error("jam", "travel", "4s")
	want := []entry{
		{"lock event", journal.PriInfo, map[string]string{"LOCKD_UNIT": "lockd", "LOCKD_KIND": "granted", "LOCKD_CODE_ID": "7"}},
		{"jam", journal.PriErr, map[string]string{"LOCKD_UNIT": "lockd", "LOCKD_BOLT_TRAVEL": "4s"}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("journal entries (-want +got):\n%s", d)
	}
}

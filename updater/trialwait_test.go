package updater

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestTrialWaiting: during a trial Waiting names the moment of the commit
// while lockd is healthy (lockctl counts down to it), and what keeps it
// from committing otherwise.
func TestTrialWaiting(t *testing.T) {
	at := time.Date(2026, 12, 7, 11, 43, 19, 0, time.UTC)
	if got, want := trialWaiting(nil, at), "healthy running; the trial commits at 2026-12-07T11:43:19Z"; got != want {
		t.Errorf("healthy: %q, want %q", got, want)
	}
	if got := trialWaiting(errors.New("codes: store closed"), at); !strings.Contains(got, "codes: store closed") {
		t.Errorf("unhealthy: %q does not say why", got)
	}
}

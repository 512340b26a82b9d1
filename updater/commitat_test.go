package updater_test

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestTrialCommitsAt: the moment a trial commits is there only while a
// trial runs healthy, and it stays put while lockd stays healthy.
func TestTrialCommitsAt(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	if at := r.mustLockd(r.boot()).TrialCommitsAt(); !at.IsZero() {
		t.Fatalf("no trial: commits at %v", at)
	}
	b := bootTrial(t, r, "2.0.0")
	r.setHealth(errors.New("dbus: connecting"))
	u := r.mustLockd(b)
	u.Step(ctx)
	if at := u.TrialCommitsAt(); !at.IsZero() {
		t.Fatalf("unhealthy trial: commits at %v", at)
	}
	r.setHealth(nil)
	healthyFrom := r.clock.Now()
	u.Step(ctx)
	want := healthyFrom.Add(time.Minute) // the rig's CommitAfter
	r.clock.Add(10 * time.Second)
	u.Step(ctx)
	if at := u.TrialCommitsAt(); !at.Equal(want) {
		t.Fatalf("healthy trial: commits at %v, want %v", at, want)
	}
	trialUntilCommit(t, r, u)
	if at := u.TrialCommitsAt(); !at.IsZero() {
		t.Fatalf("committed: commits at %v", at)
	}
}

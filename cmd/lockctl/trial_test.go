package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"lockd.dev/lockd/updater"
)

func TestTrialCommitsAtMatches(t *testing.T) {
	if trialCommitsAt != updater.TrialCommitsAt {
		t.Fatalf("lockctl reads %q, the updater writes %q", trialCommitsAt, updater.TrialCommitsAt)
	}
}

// TestUpdateStatusTrial: during a healthy trial update status counts down
// to the commit.
func TestUpdateStatusTrial(t *testing.T) {
	at := time.Now().Add(42*time.Second + 400*time.Millisecond).Truncate(time.Second)
	var b bytes.Buffer
	writeUpdateStatus(&b, updateProps{Operation: "trial", BootedSlot: "B",
		Waiting: trialCommitsAt + at.UTC().Format(time.RFC3339)})
	want := "Trial: commits in "
	if !strings.Contains(b.String(), want) || !strings.Contains(b.String(), " s, at "+at.Format("15:04:05")+", if lockd stays healthy") {
		t.Errorf("update status during a trial:\n%s", &b)
	}
}

// TestProgressBar: a terminal sees a bar redrawn in place that ends at
// 100 %, not the read-back's last figure.
func TestProgressBar(t *testing.T) {
	var b bytes.Buffer
	p := &progress{w: &b, tty: true, lastP: -1}
	p.show(updateProps{Operation: "writing", Progress: 50})
	p.show(updateProps{Operation: "verifying", Progress: 98})
	p.done()
	want := "\rwriting    [###############---------------]  50%\x1b[K" +
		"\rverifying  [#############################-]  98%\x1b[K" +
		"\rinstalled  [##############################] 100%\x1b[K\n"
	if b.String() != want {
		t.Errorf("progress on a terminal:\n got %q\nwant %q", b.String(), want)
	}
}

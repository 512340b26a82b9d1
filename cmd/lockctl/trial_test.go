package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
)

// TestUpdateStatusTrial: during a healthy trial update status counts down
// to the commit it reads from TrialCommitsAt, whatever Waiting says.
func TestUpdateStatusTrial(t *testing.T) {
	at := time.Now().Add(42*time.Second + 400*time.Millisecond).Truncate(time.Second)
	u := newUpdateProps(map[string]dbus.Variant{
		wire.PropOperation: dbus.MakeVariant("trial"), wire.PropBootedSlot: dbus.MakeVariant("B"),
		wire.PropWaiting:        dbus.MakeVariant("healthy running; the trial commits at " + at.UTC().Format(time.RFC3339)),
		wire.PropTrialCommitsAt: dbus.MakeVariant(uint64(at.UnixMicro())),
	})
	var b bytes.Buffer
	writeUpdateStatus(&b, u, painter{})
	if !strings.Contains(b.String(), "Trial: commits in ") || !strings.Contains(b.String(), " s, at "+at.Format("15:04:05")+", if lockd stays healthy") {
		t.Errorf("update status during a trial:\n%s", &b)
	}
	if strings.Contains(b.String(), "Waiting for") {
		t.Errorf("update status says the commit twice:\n%s", &b)
	}
	// Not healthy yet: no moment, and Waiting says why.
	u = newUpdateProps(map[string]dbus.Variant{wire.PropOperation: dbus.MakeVariant("trial"),
		wire.PropWaiting:        dbus.MakeVariant("lockd to be healthy (bolt unknown) before the trial can commit"),
		wire.PropTrialCommitsAt: dbus.MakeVariant(uint64(0))})
	b.Reset()
	writeUpdateStatus(&b, u, painter{})
	if u.TrialCommitsAt != nil || strings.Contains(b.String(), "Trial:") || !strings.Contains(b.String(), "Waiting for: lockd to be healthy (bolt unknown)") {
		t.Errorf("update status of an unhealthy trial:\n%s", &b)
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

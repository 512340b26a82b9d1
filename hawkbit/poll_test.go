package hawkbit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"lockd.dev/lockd/hawkbit"
	"lockd.dev/lockd/hawkbit/ddi"
	"lockd.dev/lockd/hawkbit/ddiserver"
	"lockd.dev/lockd/internal/faultserve"
	"lockd.dev/lockd/updater"
)

// waits runs the client's Run loop on the fleet's fake clock and returns
// the next n waits it sleeps, each ended by advancing the clock.
func waits(t *testing.T, f *fleet, n int) []time.Duration {
	t.Helper()
	var out []time.Duration
	for len(out) < n {
		if !f.clock.WaitForWaiters(1, 10*time.Second) {
			t.Fatal("the client does not sleep")
		}
		d, _ := f.clock.Next()
		out = append(out, d)
		f.clock.AdvanceToNext()
	}
	return out
}

// TestPollingAndBackoff: steady polls at the server's period ±10 %; with
// the server down, waits grow from 5-10 s to the 15 min cap, each drawn
// with jitter; a 429's Retry-After is honoured; back up, the period
// returns.
func TestPollingAndBackoff(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	u := f.unit("lock-11", updater.RebootApprove)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go u.C.Run(ctx)
	for _, d := range waits(t, f, 3) {
		if d < 270*time.Second || d > 330*time.Second {
			t.Fatalf("steady wait %v, want 5 min ±10 %%", d)
		}
	}
	f.srv.SetFaults(ddiserver.Faults{Down: true})
	got := waits(t, f, 10)
	for i, d := range got {
		full := min(10*time.Second<<i, 15*time.Minute)
		if d < full/2 || d > full {
			t.Fatalf("backoff %d: %v, want within [%v, %v] (all: %v)", i, d, full/2, full, got)
		}
	}
	f.srv.SetFaults(ddiserver.Faults{TooMany: 1, RetryAfter: 1800})
	if d := waits(t, f, 1)[0]; d < 30*time.Minute {
		t.Fatalf("wait after a 429 with Retry-After 1800: %v", d)
	}
	if d := waits(t, f, 1)[0]; d < 270*time.Second || d > 330*time.Second {
		t.Fatalf("wait once the server is back: %v", d)
	}
	if st := u.C.Status(); st.State != "polling" || st.LastError != "" {
		t.Fatalf("status %+v", st)
	}
}

// TestDownloadFaults: the bundle download meets cuts, a stall, 5xx and
// 429s; it resumes each time where it stopped and installs, and the
// server sends no byte twice.
func TestDownloadFaults(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	f.artifact("lockd-2.0.0.bundle", "2.0.0", model, nil)
	f.srv.SetArtifactFaults(faultserve.Faults{CutAt: []int64{200_000, 700_000, 1<<20 + 7}, Error5xxEvery: 3, TooMany: 2, RetryAfter: 5})
	u := f.unit("lock-12", updater.RebootApprove)
	f.srv.Assign("lock-12", ddiserver.Action{Artifact: "lockd-2.0.0.bundle", Version: "2.0.0"})
	poll(t, u)
	poll(t, u)
	if p := u.U.Status().Pending; p == nil || p.Version != "2.0.0" {
		t.Fatalf("pending %+v; feedback:\n%s", p, details(f.srv.Target("lock-12").Feedback))
	}
	st := f.srv.ArtifactStats("lock-12")
	t.Logf("artifact: %+v", st)
	if st.Sent != st.Unique {
		t.Fatalf("%d bytes sent twice", st.Sent-st.Unique)
	}
}

// TestDownloadGivesUpThenResumes: the artifact's server goes away
// mid-download; the attempt fails, and the next poll's attempt fetches
// only what the slot lacks.
func TestDownloadGivesUpThenResumes(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	f.artifact("lockd-2.0.0.bundle", "2.0.0", model, nil)
	f.srv.SetArtifactFaults(faultserve.Faults{CutAt: []int64{1 << 20}, NotFoundOnResume: true})
	u := f.unit("lock-13", updater.RebootApprove)
	f.srv.Assign("lock-13", ddiserver.Action{Artifact: "lockd-2.0.0.bundle", Version: "2.0.0"})
	poll(t, u)
	poll(t, u)
	if s := u.U.Status(); s.Pending != nil || !strings.Contains(s.LastError, "gone from the server") {
		t.Fatalf("after the 404: %+v", s)
	}
	f.srv.SetArtifactFaults(faultserve.Faults{})
	poll(t, u)
	poll(t, u)
	if p := u.U.Status().Pending; p == nil {
		t.Fatalf("nothing pending after the second attempt; feedback:\n%s", details(f.srv.Target("lock-13").Feedback))
	}
	st := f.srv.ArtifactStats("lock-13")
	t.Logf("artifact: %+v", st)
	if again := st.Sent - st.Unique; again > 1<<20 {
		t.Fatalf("%d bytes sent twice after the failed attempt", again)
	}
}

// TestHostileServer: links off the configured server are not followed
// (the token stays home), a body over 64 KiB is refused, and the
// server's maintenance window holds the reboot without causing one.
func TestHostileServer(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	var asked []string
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.Header.Get("Authorization"))
		w.Write([]byte(`{}`))
	}))
	defer evil.Close()
	mode := "link"
	hostile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch mode {
		case "link":
			w.Write([]byte(`{"config":{"polling":{"sleep":"00:00:01"}},"_links":{"deploymentBase":{"href":"` + evil.URL + `/DEFAULT/controller/v1/lock-14/deploymentBase/1"}}}`))
		case "huge":
			w.Write([]byte(`{"config":{"polling":{"sleep":"00:05:00"}},"x":"` + strings.Repeat("a", ddi.MaxBody) + `"}`))
		}
	}))
	defer hostile.Close()
	c, err := hawkbit.New(hawkbit.Config{Server: hostile.URL, Tenant: tenant, ControllerID: "lock-14", Authorization: "TargetToken " + token,
		StateFile: t.TempDir() + "/hawkbit.json", Updater: nopUpdater{}, Clock: f.clock,
		Open: func(context.Context, string, http.Header) (updater.Source, error) { panic("no download") }})
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Poll(context.Background()); d < 9*time.Second {
		t.Fatalf("a sleep of 1 s became a wait of %v: the floor is 10 s", d)
	}
	if st := c.Status(); !strings.Contains(st.LastError, "not followed") || len(asked) != 0 {
		t.Fatalf("status %+v; the other server was asked %d times", st, len(asked))
	}
	mode = "huge"
	c.Poll(context.Background())
	if st := c.Status(); st.State != "offline" || !strings.Contains(st.LastError, "64 KiB") {
		t.Fatalf("status %+v", st)
	}

	// The maintenance window.
	f.artifact("lockd-2.0.0.bundle", "2.0.0", model, nil)
	u := f.unit("lock-15", updater.RebootAuto)
	f.srv.Assign("lock-15", ddiserver.Action{Artifact: "lockd-2.0.0.bundle", Version: "2.0.0", Update: ddi.HandlingForced, Window: ddi.WindowUnavailable})
	poll(t, u)
	poll(t, u)
	if h := u.C.Hold(); !strings.Contains(h, "maintenance window") {
		t.Fatalf("hold %q", h)
	}
	f.srv.SetWindow("lock-15", ddi.WindowAvailable)
	poll(t, u)
	if h := u.C.Hold(); h != "" {
		t.Fatalf("hold %q once the window is open", h)
	}
}

// nopUpdater is an updater with nothing to do.
type nopUpdater struct{}

func (nopUpdater) Status() updater.Status { return updater.Status{} }
func (nopUpdater) InstallSource(context.Context, updater.Source, updater.InstallOptions) error {
	return nil
}
func (nopUpdater) Approve(context.Context) error  { return nil }
func (nopUpdater) Withdraw(context.Context) error { return nil }

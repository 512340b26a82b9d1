package hawkbit_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lockd.dev/lockd/hawkbit/ddi"
	"lockd.dev/lockd/hawkbit/ddiserver"
	"lockd.dev/lockd/hawkbit/hawkbittest"
	"lockd.dev/lockd/internal/retry/retrytest"
	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/bundle"
	"lockd.dev/lockd/updater/bundle/bundletest"
)

const (
	model    = "acme,door-2"
	tenant   = "DEFAULT"
	token    = "s3cret-target-token"
	imgSize  = 1<<20 + 512<<10
	slotSize = 2 << 20
	chunk    = 64 << 10
)

// fleet is a DDI server on 127.0.0.1 and the vendor's signing key.
type fleet struct {
	t     *testing.T
	srv   *ddiserver.Server
	url   string
	priv  ed25519.PrivateKey
	keys  string
	clock *retrytest.Clock
}

func newFleet(t *testing.T) *fleet {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	keys := filepath.Join(t.TempDir(), "keys")
	if err := os.MkdirAll(keys, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := bundle.WriteKeyPair(filepath.Join(keys, "vendor"), priv); err != nil {
		t.Fatal(err)
	}
	srv := ddiserver.New(tenant, token, 5*time.Minute)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &fleet{t: t, srv: srv, url: hs.URL, priv: priv, keys: keys, clock: retrytest.New(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))}
}

// artifact signs an indexed bundle of version for compat with priv (the
// vendor's when nil) and puts it on the server as name.
func (f *fleet) artifact(name, version, compat string, priv ed25519.PrivateKey) {
	f.t.Helper()
	if priv == nil {
		priv = f.priv
	}
	b := bundletest.Make(f.t, priv, hawkbittest.Image(version, imgSize), bundletest.Options{Compatible: compat, Version: version, ChunkSize: chunk})
	f.srv.AddArtifact(name, b)
}

// unit is a lock with 1.0.0 in slot A, powered on, its client not running.
func (f *fleet) unit(id, policy string) *hawkbittest.Unit {
	f.t.Helper()
	u, err := hawkbittest.NewUnit(hawkbittest.Config{Dir: f.t.TempDir(), KeysDir: f.keys, Compatible: model, Factory: "1.0.0",
		ImageSize: imgSize, SlotSize: slotSize, Server: f.url, Tenant: tenant, ControllerID: id,
		Authorization: "TargetToken " + token, Policy: policy, Clock: f.clock, DownloadClock: instant{}, HTTP: &http.Client{},
		Log: slog.New(slog.NewTextHandler(tWriter{f.t}, nil))})
	if err != nil {
		f.t.Fatal(err)
	}
	if err := u.PowerOn(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(u.PowerOff)
	return u
}

// instant is a download clock whose waits end at once.
type instant struct{}

func (instant) Now() time.Time { return time.Now() }
func (instant) After(time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- time.Now()
	return ch
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// poll polls once and waits until no install runs.
func poll(t *testing.T, u *hawkbittest.Unit) {
	t.Helper()
	u.C.Poll(context.Background())
	waitFor(t, "the install to end", func() bool {
		op := u.U.Status().Operation
		return op != "verifying" && op != "writing" && op != "syncing"
	})
}

// waitFor waits, in real time, for the updater's background work.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 20 s for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// closed returns the closing feedbacks the server has from id.
func closed(f *fleet, id string) []ddiserver.Feedback {
	var out []ddiserver.Feedback
	for _, fb := range f.srv.Target(id).Feedback {
		if fb.Kind == "deployment" && fb.Status.Execution == ddi.ExecClosed {
			out = append(out, fb)
		}
	}
	return out
}

// noSuccessYet fails if the server heard success from id.
func noSuccessYet(t *testing.T, f *fleet, id, when string) {
	t.Helper()
	for _, fb := range closed(f, id) {
		if fb.Status.Result.Finished == ddi.FinishedSuccess {
			t.Fatalf("success reported %s: %+v", when, fb)
		}
	}
}

// commitTrial lets a healthy trial reach its commit.
func commitTrial(t *testing.T, f *fleet, u *hawkbittest.Unit) {
	t.Helper()
	waitFor(t, "the trial to count", func() bool { return !u.U.TrialCommitsAt().IsZero() })
	f.clock.Advance(61 * time.Second)
	waitFor(t, "the commit", func() bool {
		s := u.U.Status()
		return s.Operation == "idle" && s.Committed == s.Booted
	})
}

func details(fbs []ddiserver.Feedback) string {
	var s []string
	for _, fb := range fbs {
		s = append(s, fmt.Sprintf("%s %s/%s %v", fb.Kind, fb.Status.Execution, fb.Status.Result.Finished, fb.Status.Details))
	}
	return strings.Join(s, "\n")
}

var _ = updater.SlotA

func ed25519GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	return ed25519.GenerateKey(rand.Reader)
}

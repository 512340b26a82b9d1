package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"lockd.dev/lockd/hawkbit/ddi"
	"lockd.dev/lockd/hawkbit/ddiserver"
	"lockd.dev/lockd/internal/dbustest"
	"lockd.dev/lockd/internal/testtool"
	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/bundle/bundletest"
)

// TestSimFleetUpdate runs the real binary, configured by [update.hawkbit],
// against the DDI test server on 127.0.0.1: lockd polls, streams the
// bundle over HTTP, installs it and (reboot = "auto") reboots the
// simulated unit; the next power-on boots B on trial, lockd commits, and
// only then does the server hear success; configData then names the
// running version and slot.
func TestSimFleetUpdate(t *testing.T) {
	dbustest.Need(t, "fw_printenv")
	testtool.NeedRoot(t, "the fleet token file (root's, mode 0600)")
	srv := ddiserver.New("DEFAULT", "fleet-token", time.Second)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	bus := dbustest.Start(t, dbustest.Options{})

	token := filepath.Join(t.TempDir(), "hawkbit-token")
	if err := os.WriteFile(token, []byte("fleet-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	u := newSimUnit(t, bus.Address, "[update.hawkbit]\nserver = \""+hs.URL+"\"\ntenant = \"DEFAULT\"\ncontroller_id = \"lock-1\"\ntoken_file = \""+token+"\"\n")
	img := make([]byte, 3<<20)
	copy(img, "ROOTFS 1.0.0")
	srv.AddArtifact("lockd-1.0.0.bundle", bundletest.Make(t, u.priv, img, bundletest.Options{Compatible: "acme,sim", Version: "1.0.0"}))
	srv.Assign("lock-1", ddiserver.Action{Artifact: "lockd-1.0.0.bundle", Version: "1.0.0", Name: "lockd",
		Download: ddi.HandlingForced, Update: ddi.HandlingForced})

	// Power-on 1: poll, download, install, reboot once quiet.
	cmd := u.start(t)
	if code := waitExit(t, cmd, 60*time.Second); code != 0 {
		t.Fatalf("simulated reboot: lockd exited %d", code)
	}
	if env := u.env(t); env["lockd_try"] != "B" {
		t.Fatalf("armed env %v", env)
	}
	if fb := finishedFeedback(srv, "lock-1"); len(fb) != 0 {
		t.Fatalf("the server heard %v before the trial", fb)
	}

	// Power-on 2: B on trial, healthy for commit_after, commit, success.
	cmd = u.start(t)
	deadline := time.Now().Add(30 * time.Second)
	for srv.Target("lock-1").State != "finished" {
		if fb := finishedFeedback(srv, "lock-1"); len(fb) != 0 && u.env(t)["lockd_slot"] != "B" {
			t.Fatalf("the server heard %v before the commit (env %v)", fb, u.env(t))
		}
		if cmd.ProcessState != nil || time.Now().After(deadline) {
			t.Fatalf("no success reported: server target %+v, env %v", srv.Target("lock-1"), u.env(t))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if env := u.env(t); env["lockd_slot"] != "B" || env["lockd_try"] != "" {
		t.Fatalf("success reported, env %v", env)
	}
	if fb := finishedFeedback(srv, "lock-1"); len(fb) != 1 || fb[0] != ddi.FinishedSuccess {
		t.Fatalf("closing feedback %v, want one success", fb)
	}
	if st := u.state(t); st.Slots[updater.SlotB].State != updater.SlotGood || st.Slots[updater.SlotB].Version != "1.0.0" {
		t.Fatalf("state %+v", st)
	}
	// configData follows on a later poll, when the server asks for it.
	for {
		tg := srv.Target("lock-1")
		if tg.ConfigData["version"] == "1.0.0" && tg.ConfigData["slot"] == "B" && tg.ConfigData["compatible"] == "acme,sim" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("configData %v", tg.ConfigData)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// finishedFeedback lists the results of controller's closing feedback.
func finishedFeedback(srv *ddiserver.Server, controller string) []string {
	var r []string
	for _, fb := range srv.Target(controller).Feedback {
		if fb.Kind == "deployment" && fb.Status.Execution == ddi.ExecClosed {
			r = append(r, fb.Status.Result.Finished)
		}
	}
	return r
}

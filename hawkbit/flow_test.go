package hawkbit_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"lockd.dev/lockd/hawkbit/ddi"
	"lockd.dev/lockd/hawkbit/ddiserver"
	"lockd.dev/lockd/updater"
)

// TestUpdateCommitsThenSuccess: the deployment installs, the owner
// approves, the lock reboots into the trial, commits once healthy, and
// only then does the server hear success; configData then names the new
// version and slot.
func TestUpdateCommitsThenSuccess(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	f.artifact("lockd-2.0.0.bundle", "2.0.0", model, nil)
	u := f.unit("lock-1", updater.RebootApprove)
	f.srv.Assign("lock-1", ddiserver.Action{Artifact: "lockd-2.0.0.bundle", Version: "2.0.0", Download: ddi.HandlingForced, Update: ddi.HandlingAttempt})
	poll(t, u)
	poll(t, u)
	if p := u.U.Status().Pending; p == nil || p.Version != "2.0.0" || p.Slot != updater.SlotB {
		t.Fatalf("pending %+v (status %+v)", p, u.U.Status())
	}
	noSuccessYet(t, f, "lock-1", "once installed")
	if err := u.U.Approve(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reboot", func() bool { return u.Reboots() == 1 })
	poll(t, u)
	noSuccessYet(t, f, "lock-1", "once armed")

	if err := u.PowerOn(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !u.Booted.Trial || u.Booted.Slot != updater.SlotB {
		t.Fatalf("booted %+v", u.Booted)
	}
	poll(t, u)
	noSuccessYet(t, f, "lock-1", "on trial")
	commitTrial(t, f, u)
	poll(t, u)
	got := closed(f, "lock-1")
	if len(got) != 1 || got[0].Status.Result.Finished != ddi.FinishedSuccess {
		t.Fatalf("closing feedback:\n%s", details(f.srv.Target("lock-1").Feedback))
	}
	tg := f.srv.Target("lock-1")
	if tg.State != "finished" || tg.ConfigData["version"] != "2.0.0" || tg.ConfigData["slot"] != "B" || tg.ConfigData["compatible"] != model {
		t.Fatalf("server: state %s, configData %v", tg.State, tg.ConfigData)
	}
	// Polls after the report change nothing.
	poll(t, u)
	if n := len(closed(f, "lock-1")); n != 1 {
		t.Fatalf("%d closing feedbacks", n)
	}
}

// TestNeverHealthyRollsBack: the new slot never gets healthy, the trial
// is given up, the boot chain falls back to slot A, and the server hears
// failure with the updater's reason, and that 1.0.0 runs.
func TestNeverHealthyRollsBack(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	f.artifact("lockd-2.0.0.bundle", "2.0.0", model, nil)
	u := f.unit("lock-2", updater.RebootAuto)
	f.srv.Assign("lock-2", ddiserver.Action{Artifact: "lockd-2.0.0.bundle", Version: "2.0.0", Name: "lockd-rootfs"})
	poll(t, u)
	poll(t, u)
	waitFor(t, "the reboot", func() bool { return u.Reboots() == 1 })
	u.SetHealth(errors.New("bolt unknown"))
	if err := u.PowerOn(context.Background()); err != nil {
		t.Fatal(err)
	}
	poll(t, u)
	waitFor(t, "the trial to run", func() bool { return u.U.Status().Operation == "trial" })
	f.clock.Advance(181 * 1e9)
	waitFor(t, "the trial to be given up", func() bool { return len(u.GaveUp()) == 1 })
	noSuccessYet(t, f, "lock-2", "after the trial was given up")
	if err := u.PowerOn(context.Background()); err != nil {
		t.Fatal(err)
	}
	if u.Booted.Slot != updater.SlotA {
		t.Fatalf("booted %+v after the given-up trial", u.Booted)
	}
	poll(t, u)
	got := closed(f, "lock-2")
	if len(got) != 1 || got[0].Status.Result.Finished != ddi.FinishedFailure || !strings.Contains(strings.Join(got[0].Status.Details, " "), "rolled back") {
		t.Fatalf("closing feedback:\n%s", details(f.srv.Target("lock-2").Feedback))
	}
	tg := f.srv.Target("lock-2")
	if tg.Installed.Version != "1.0.0" || tg.Installed.Name != "lockd-rootfs" || tg.ConfigData["version"] != "1.0.0" || tg.ConfigData["slot"] != "A" {
		t.Fatalf("server: installedBase %+v, configData %v", tg.Installed, tg.ConfigData)
	}
}

// TestRefusedArtifacts: a bundle for another model and one signed by a
// key the lock does not trust are refused before a byte is written, and
// reported as failures.
func TestRefusedArtifacts(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	f.artifact("other-model.bundle", "2.0.0", "acme,door-1", nil)
	_, stranger, _ := ed25519GenerateKey()
	f.artifact("unsigned.bundle", "2.0.0", model, stranger)
	for _, c := range []struct{ id, artifact, want string }{
		{"lock-3", "other-model.bundle", "incompatible"},
		{"lock-4", "unsigned.bundle", "unknown key"},
	} {
		u := f.unit(c.id, updater.RebootAuto)
		f.srv.Assign(c.id, ddiserver.Action{Artifact: c.artifact, Version: "2.0.0"})
		poll(t, u)
		got := closed(f, c.id)
		if len(got) != 1 || got[0].Status.Result.Finished != ddi.FinishedFailure || !strings.Contains(strings.Join(got[0].Status.Details, " "), c.want) {
			t.Fatalf("%s: closing feedback:\n%s", c.artifact, details(f.srv.Target(c.id).Feedback))
		}
		if s := u.U.Status(); s.Slots[updater.SlotB].State != updater.SlotEmpty || len(s.History) != 1 {
			t.Fatalf("%s: the updater changed: %+v", c.artifact, s)
		}
	}
}

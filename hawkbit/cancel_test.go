package hawkbit_test

import (
	"context"
	"strings"
	"testing"

	"lockd.dev/lockd/hawkbit/ddi"
	"lockd.dev/lockd/hawkbit/ddiserver"
	"lockd.dev/lockd/internal/faultserve"
	"lockd.dev/lockd/updater"
)

// cancels returns the cancel feedbacks the server has from id.
func cancels(f *fleet, id string) []ddiserver.Feedback {
	var out []ddiserver.Feedback
	for _, fb := range f.srv.Target(id).Feedback {
		if fb.Kind == "cancel" {
			out = append(out, fb)
		}
	}
	return out
}

// TestCancelPending: a cancel of an installed update that waits for the
// owner withdraws it.
func TestCancelPending(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	f.artifact("lockd-2.0.0.bundle", "2.0.0", model, nil)
	u := f.unit("lock-5", updater.RebootApprove)
	f.srv.Assign("lock-5", ddiserver.Action{Artifact: "lockd-2.0.0.bundle", Version: "2.0.0"})
	poll(t, u)
	poll(t, u)
	f.srv.Cancel("lock-5")
	poll(t, u)
	c := cancels(f, "lock-5")
	if len(c) != 1 || c[0].Status.Execution != ddi.ExecClosed || c[0].Status.Result.Finished != ddi.FinishedSuccess {
		t.Fatalf("cancel feedback:\n%s", details(f.srv.Target("lock-5").Feedback))
	}
	if s := u.U.Status(); s.Pending != nil || s.Slots[updater.SlotB].State != updater.SlotEmpty {
		t.Fatalf("after the cancel: %+v", s)
	}
	if tg := f.srv.Target("lock-5"); tg.State != "canceled" {
		t.Fatalf("server state %s", tg.State)
	}
}

// TestCancelDownload: a cancel while the bundle downloads stops the
// download; the updater records why.
func TestCancelDownload(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	f.artifact("lockd-2.0.0.bundle", "2.0.0", model, nil)
	f.srv.SetArtifactFaults(faultserve.Faults{StallAt: 1 << 20})
	u := f.unit("lock-6", updater.RebootApprove)
	f.srv.Assign("lock-6", ddiserver.Action{Artifact: "lockd-2.0.0.bundle", Version: "2.0.0"})
	u.C.Poll(context.Background())
	f.srv.Cancel("lock-6")
	poll(t, u)
	c := cancels(f, "lock-6")
	if len(c) != 1 || c[0].Status.Execution != ddi.ExecClosed {
		t.Fatalf("cancel feedback:\n%s", details(f.srv.Target("lock-6").Feedback))
	}
	s := u.U.Status()
	if s.Pending != nil || !strings.Contains(s.LastError, "cancelled the update") {
		t.Fatalf("after the cancel: pending %+v, last error %q", s.Pending, s.LastError)
	}
	poll(t, u) // nothing more happens
	if st := u.C.Status(); st.ActionID != "" {
		t.Fatalf("client still holds action %s", st.ActionID)
	}
}

// TestCancelAfterArming: once armed, a cancel is rejected; the trial
// goes on, commits, and success is reported.
func TestCancelAfterArming(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	f.artifact("lockd-2.0.0.bundle", "2.0.0", model, nil)
	u := f.unit("lock-7", updater.RebootAuto)
	f.srv.Assign("lock-7", ddiserver.Action{Artifact: "lockd-2.0.0.bundle", Version: "2.0.0"})
	poll(t, u)
	poll(t, u)
	waitFor(t, "the reboot", func() bool { return u.Reboots() == 1 })
	f.srv.Cancel("lock-7")
	poll(t, u)
	if err := u.PowerOn(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.srv.Cancel("lock-7")
	poll(t, u)
	c := cancels(f, "lock-7")
	if len(c) != 2 || c[0].Status.Execution != ddi.ExecRejected || c[1].Status.Execution != ddi.ExecRejected {
		t.Fatalf("cancel feedback:\n%s", details(f.srv.Target("lock-7").Feedback))
	}
	commitTrial(t, f, u)
	poll(t, u)
	if got := closed(f, "lock-7"); len(got) != 1 || got[0].Status.Result.Finished != ddi.FinishedSuccess {
		t.Fatalf("closing feedback:\n%s", details(f.srv.Target("lock-7").Feedback))
	}
}

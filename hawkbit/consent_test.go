package hawkbit_test

import (
	"context"
	"strings"
	"testing"

	"lockd.dev/lockd/hawkbit"
	"lockd.dev/lockd/hawkbit/ddi"
	"lockd.dev/lockd/hawkbit/ddiserver"
	"lockd.dev/lockd/updater"
)

// TestConsentByTheOwner: with the owner's policy "approve", an action
// that asks for confirmation waits for the owner; Owner.Approve (what
// `lockctl update approve` calls) confirms it, and the same approval
// lets the installed update reboot.
func TestConsentByTheOwner(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	f.artifact("lockd-2.0.0.bundle", "2.0.0", model, nil)
	u := f.unit("lock-8", updater.RebootApprove)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := hawkbit.NewOwner(ctx, u.U, u.C)
	f.srv.Assign("lock-8", ddiserver.Action{Artifact: "lockd-2.0.0.bundle", Version: "2.0.0", Confirm: true})
	poll(t, u)
	poll(t, u)
	if w := o.Status().Waiting; !strings.Contains(w, "lockctl update approve") || !strings.Contains(w, "2.0.0") {
		t.Fatalf("waiting %q", w)
	}
	if tg := f.srv.Target("lock-8"); tg.State != "waiting" || len(tg.Feedback) != 0 {
		t.Fatalf("the server heard something before the owner decided: %+v", tg)
	}
	if err := o.Approve(ctx); err != nil {
		t.Fatal(err)
	}
	poll(t, u) // the confirmation
	poll(t, u) // the deployment
	poll(t, u) // installed: approved for the reboot
	tg := f.srv.Target("lock-8")
	if len(tg.Feedback) == 0 || tg.Feedback[0].Kind != "confirmation" || tg.Feedback[0].Confirm.Confirmation != ddi.Confirmed {
		t.Fatalf("feedback:\n%s", details(tg.Feedback))
	}
	waitFor(t, "the reboot", func() bool { return u.Reboots() == 1 })
}

// TestConsentRejected: Reject denies the action; the server hears it and
// nothing is installed.
func TestConsentRejected(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	f.artifact("lockd-2.0.0.bundle", "2.0.0", model, nil)
	u := f.unit("lock-9", updater.RebootApprove)
	o := hawkbit.NewOwner(context.Background(), u.U, u.C)
	f.srv.Assign("lock-9", ddiserver.Action{Artifact: "lockd-2.0.0.bundle", Version: "2.0.0", Confirm: true})
	poll(t, u)
	if err := o.Reject(context.Background()); err != nil {
		t.Fatal(err)
	}
	poll(t, u)
	poll(t, u)
	tg := f.srv.Target("lock-9")
	if len(tg.Feedback) != 1 || tg.Feedback[0].Confirm.Confirmation != ddi.Denied {
		t.Fatalf("feedback:\n%s", details(tg.Feedback))
	}
	if s := u.U.Status(); len(s.History) != 1 || o.Status().Waiting != "" {
		t.Fatalf("after the denial: %+v", s)
	}
}

// TestConsentUnderAutoPolicy: the owner chose "auto": the client confirms.
func TestConsentUnderAutoPolicy(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	f.artifact("lockd-2.0.0.bundle", "2.0.0", model, nil)
	u := f.unit("lock-10", updater.RebootAuto)
	f.srv.Assign("lock-10", ddiserver.Action{Artifact: "lockd-2.0.0.bundle", Version: "2.0.0", Confirm: true})
	poll(t, u)
	poll(t, u)
	poll(t, u)
	if p := u.U.Status().Pending; p == nil || p.Version != "2.0.0" {
		t.Fatalf("pending %+v", p)
	}
}

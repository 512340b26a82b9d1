package updater_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/uboot"
)

// The owner's commands (Reject, Approve, Install) while an install, the
// switch or a given-up trial runs: each is refused as busy and changes
// nothing, so no two operations ever write slots or state at once
// (issue 11).

// mountGate holds an install inside its checks: the updater reads the
// mount table there (Config.Mountinfo), and while the table is a FIFO
// that read waits for the test.
type mountGate struct {
	t    *testing.T
	path string
}

// newMountGate gives r an empty mount table, a plain file until hold.
func newMountGate(t *testing.T, r *rig) *mountGate {
	g := &mountGate{t: t, path: filepath.Join(r.dir, "mountinfo")}
	if err := os.WriteFile(g.path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r.mountinfo = g.path
	return g
}

// arm turns the mount table into a FIFO; hold then waits for the next
// install to open it.
func (g *mountGate) arm() {
	if err := os.Remove(g.path); err != nil {
		g.t.Fatal(err)
	}
	if err := unix.Mkfifo(g.path, 0o600); err != nil {
		g.t.Fatal(err)
	}
}

// hold returns once an install has opened the mount table (opening a
// FIFO for writing waits for its reader); release lets every reader go on
// and makes the table a plain file again for later installs. release is
// also registered as a cleanup, so a failed test does not leave an
// install blocked.
func (g *mountGate) hold() (release func()) {
	w, err := os.OpenFile(g.path, os.O_WRONLY, 0)
	if err != nil {
		g.t.Fatal(err)
	}
	done := false
	release = func() {
		if done {
			return
		}
		done = true
		if err := os.Remove(g.path); err != nil {
			g.t.Error(err)
		}
		if err := os.WriteFile(g.path, nil, 0o600); err != nil {
			g.t.Error(err)
		}
		w.Close() // the readers see the end of an empty table
	}
	g.t.Cleanup(release)
	return release
}

// installAsync starts an install of path; its result arrives on the
// channel once the checks end.
func installAsync(t *testing.T, u *updater.Updater, path string) <-chan error {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan error, 1)
	go func() { ch <- u.Install(context.Background(), f, updater.InstallOptions{}) }()
	return ch
}

// secondInstall tries an install while another runs. Its context is
// already cancelled: refused, it returns ErrBusy before looking at the
// context; admitted (the bug), it returns at once rather than waiting
// behind the gate.
func secondInstall(t *testing.T, u *updater.Updater, path string) error {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return u.Install(ctx, f, updater.InstallOptions{})
}

// wantBusy checks that err is ErrBusy and says text.
func wantBusy(t *testing.T, what string, err error, text string) {
	t.Helper()
	if !errors.Is(err, updater.ErrBusy) || !strings.Contains(err.Error(), text) {
		t.Errorf("%s: %v; want ErrBusy saying %q", what, err, text)
	}
}

// TestRejectWhileVerifying: an install checks a new bundle while an older
// update is pending. Reject, Approve and a second Install are refused as
// busy; the older update stays pending until the install replaces it;
// after the install ends, Reject discards the new one and a new install
// runs.
func TestRejectWhileVerifying(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	gate := newMountGate(t, r)
	u := r.mustLockd(r.boot())
	if err := install(t, u, r.bundle("2.0.0", bundleOpts{}), updater.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	v3, v4 := r.bundle("3.0.0", bundleOpts{}), r.bundle("4.0.0", bundleOpts{})
	gate.arm()
	first := installAsync(t, u, v3)
	release := gate.hold()
	before := r.files()
	if s := u.Status(); s.Operation != "verifying" || s.Pending == nil || s.Pending.Version != "2.0.0" {
		t.Fatalf("while the install checks: %+v (pending %+v)", s, s.Pending)
	}
	wantBusy(t, "reject while an install checks", u.Reject(ctx), "an install is running")
	wantBusy(t, "approve while an install checks", u.Approve(ctx), "an install is running")
	wantBusy(t, "second install while the first checks", secondInstall(t, u, v4), "an install is running")
	assertUnchanged(t, before, r.files())
	if s := u.Status(); s.Operation != "verifying" || s.Pending == nil || s.Pending.Version != "2.0.0" || s.Pending.Approved {
		t.Fatalf("after the refused commands: %+v (pending %+v)", s, s.Pending)
	}
	release()
	if err := <-first; err != nil {
		t.Fatalf("the first install: %v", err)
	}
	if err := waitRest(t, u); err != nil {
		t.Fatal(err)
	}
	if s := u.Status(); s.Operation != "pending" || s.Pending == nil || s.Pending.Version != "3.0.0" {
		t.Fatalf("after the install: %+v (pending %+v)", s, s.Pending)
	}
	if n := countEvents(u.Status().History, "installed"); n != 2 {
		t.Fatalf("%d installs recorded, want 2 (2.0.0, 3.0.0)", n)
	}
	if got := versionIn(t, r.m.SlotPath(updater.SlotB)); got != "3.0.0" {
		t.Fatalf("slot B holds %q", got)
	}
	// Now that it has ended, the owner's commands run.
	if err := u.Reject(ctx); err != nil {
		t.Fatal(err)
	}
	if s := u.Status(); s.Operation != "idle" || s.Pending != nil || s.Slots[updater.SlotB].State != updater.SlotEmpty {
		t.Fatalf("after reject: %+v", s)
	}
	if err := install(t, u, v4, updater.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := versionIn(t, r.m.SlotPath(updater.SlotB)); got != "4.0.0" {
		t.Fatalf("slot B holds %q", got)
	}
}

// TestRejectWhileWriting: the same while the install writes the slot,
// after it discarded the older pending update.
func TestRejectWhileWriting(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	gate := &gateStorage{path: r.m.SlotPath(updater.SlotB), write: true, entered: make(chan struct{}), release: make(chan struct{})}
	u, err := r.lockd(r.boot(), gate)
	if err != nil {
		t.Fatal(err)
	}
	if err := install(t, u, r.bundle("2.0.0", bundleOpts{}), updater.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	v3, v4 := r.bundle("3.0.0", bundleOpts{}), r.bundle("4.0.0", bundleOpts{})
	gate.armed.Store(true)
	first := installAsync(t, u, v3)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	<-gate.entered // the writer opens slot B
	wantBusy(t, "reject while an install writes", u.Reject(ctx), "an install is running")
	wantBusy(t, "approve while an install writes", u.Approve(ctx), "an install is running")
	wantBusy(t, "second install while the first writes", secondInstall(t, u, v4), "an install is running")
	close(gate.release)
	if err := waitRest(t, u); err != nil {
		t.Fatal(err)
	}
	if s := u.Status(); s.Operation != "pending" || s.Pending == nil || s.Pending.Version != "3.0.0" {
		t.Fatalf("after the install: %+v (pending %+v)", s, s.Pending)
	}
	if got := versionIn(t, r.m.SlotPath(updater.SlotB)); got != "3.0.0" {
		t.Fatalf("slot B holds %q", got)
	}
	if err := u.Reject(ctx); err != nil {
		t.Fatal(err)
	}
	if err := install(t, u, v4, updater.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if s := u.Status(); s.Pending == nil || s.Pending.Version != "4.0.0" {
		t.Fatalf("after the last install: %+v", s.Pending)
	}
}

// TestOwnerAfterTrialGaveUp: a trial that was given up (lockd about to
// exit so the boot chain counts the boot) refuses Reject, Approve and
// Install. Before, Reject disarmed it, marked the running slot empty and
// set the operation idle, and the next Install wrote the committed slot
// A — the fallback — while the unit ran the uncommitted trial.
func TestOwnerAfterTrialGaveUp(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	b := bootTrial(t, r, "2.0.0")
	u := r.mustLockd(b)
	r.setHealth(errors.New("hardware: limit switches disagree"))
	for len(r.takeGiveUps()) == 0 {
		if u.Status().Operation != "trial" {
			t.Fatalf("trial ended without giving up: %+v", u.Status())
		}
		u.Step(ctx)
		r.clock.Add(10 * time.Second)
	}
	before := r.files()
	wantBusy(t, "reject after the trial gave up", u.Reject(ctx), "was given up")
	wantBusy(t, "approve after the trial gave up", u.Approve(ctx), "was given up")
	v3 := r.bundle("3.0.0", bundleOpts{})
	wantBusy(t, "install after the trial gave up", secondInstall(t, u, v3), "was given up")
	// Even with the operation wrongly idle, the committed slot A is not
	// an install's target.
	u.ForceOperation("idle")
	wantBusy(t, "install into the committed slot", secondInstall(t, u, v3), "slot A is the committed slot")
	u.ForceOperation("trial-failed")
	u.Step(ctx)
	assertUnchanged(t, before, r.files())
	if env := r.env(); env[uboot.VarSlot] != "A" || env[uboot.VarTry] != "B" {
		t.Fatalf("env %v", env)
	}
	// The boot chain falls back to A, which still holds 1.0.0.
	for b = r.boot(); b.Trial; b = r.boot() {
	}
	if b.Slot != updater.SlotA || versionIn(t, r.m.SlotPath(updater.SlotA)) != "1.0.0" {
		t.Fatalf("fell back to %+v holding %q", b, versionIn(t, r.m.SlotPath(updater.SlotA)))
	}
}

package updater_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/bootsim"
	"lockd.dev/lockd/updater/uboot"
	"lockd.dev/lockd/updater/ubootenv/ubootenvtest"
)

// trialUntilCommit steps a trial lockd, healthy, until it commits.
func trialUntilCommit(t *testing.T, r *rig, u *updater.Updater) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < 70 && u.Status().Operation == "trial"; i++ {
		u.Step(ctx)
		r.clock.Add(time.Second)
	}
	if s := u.Status(); s.Operation != "idle" {
		t.Fatalf("trial did not commit: %+v", s)
	}
}

// bootTrial installs version on a fresh unit, approves it and boots the
// trial of slot B.
func bootTrial(t *testing.T, r *rig, version string) bootsim.Booted {
	t.Helper()
	u := r.mustLockd(r.boot())
	if err := install(t, u, r.bundle(version, bundleOpts{}), updater.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	approveAndReboot(t, r, u)
	b := r.boot()
	if b.Slot != updater.SlotB || !b.Trial {
		t.Fatalf("trial boot %+v", b)
	}
	return b
}

// approveAndReboot approves the pending update, lets the updater arm it,
// and checks it asked for the reboot.
func approveAndReboot(t *testing.T, r *rig, u *updater.Updater) {
	t.Helper()
	ctx := context.Background()
	if err := u.Approve(ctx); err != nil {
		t.Fatal(err)
	}
	u.Step(ctx)
	if got := r.takeReboots(); len(got) != 1 {
		t.Fatalf("reboots after approval: %q (status %+v)", got, u.Status())
	}
}

func TestUpdateCommits(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	b := r.boot()
	if b.Slot != updater.SlotA || b.Trial {
		t.Fatalf("fresh unit booted %+v", b)
	}
	u := r.mustLockd(b)
	if s := u.Status(); s.Operation != "idle" || s.Booted != updater.SlotA || s.Slots[updater.SlotA].State != updater.SlotGood {
		t.Fatalf("fresh status %+v", s)
	}
	if err := install(t, u, r.bundle("2.0.0", bundleOpts{secVersion: 2}), updater.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	s := u.Status()
	if s.Operation != "pending" || s.Pending == nil || s.Pending.Version != "2.0.0" || s.Slots[updater.SlotB].State != updater.SlotInstalled || s.Committed != updater.SlotA {
		t.Fatalf("after install: %+v", s)
	}
	if got := versionIn(t, r.m.SlotPath(updater.SlotB)); got != "2.0.0" {
		t.Fatalf("slot B holds %q", got)
	}
	// Pending waits for the owner: nothing is armed, nothing reboots.
	u.Step(ctx)
	if got := r.takeReboots(); len(got) != 0 || r.env()[uboot.VarTry] != "" {
		t.Fatalf("rebooted or armed without approval: %q %v", got, r.env())
	}
	if w := u.Status().Waiting; !strings.Contains(w, "approval") {
		t.Errorf("waiting = %q", w)
	}
	// Approved but the door is open: still waits, and says why.
	r.setQuiet("the door to close")
	if err := u.Approve(ctx); err != nil {
		t.Fatal(err)
	}
	u.Step(ctx)
	if got := r.takeReboots(); len(got) != 0 || u.Status().Waiting != "the door to close" {
		t.Fatalf("rebooted with the door open: %q %+v", got, u.Status())
	}
	r.setQuiet("")
	u.Step(ctx)
	if got := r.takeReboots(); len(got) != 1 {
		t.Fatalf("reboots = %q", got)
	}
	if env := r.env(); env[uboot.VarTry] != "B" || env[uboot.VarTryLeft] != "3" || env[uboot.VarSlot] != "A" {
		t.Fatalf("armed env %v", env)
	}

	b = r.boot()
	if b.Slot != updater.SlotB || !b.Trial || !strings.Contains(b.Cmdline, "lockd.trial=1") {
		t.Fatalf("trial boot %+v", b)
	}
	u = r.mustLockd(b)
	if s := u.Status(); s.Operation != "trial" || s.Slots[updater.SlotB].State != updater.SlotTrial {
		t.Fatalf("trial status %+v", s)
	}
	// An unhealthy moment restarts the count.
	r.setHealth(errors.New("d-bus: name not owned"))
	for i := 0; i < 50; i++ {
		u.Step(ctx)
		r.clock.Add(time.Second)
	}
	r.setHealth(nil)
	trialUntilCommit(t, r, u)
	env := r.env()
	if env[uboot.VarSlot] != "B" || env[uboot.VarTry] != "" || env[uboot.VarTryLeft] != "" {
		t.Fatalf("committed env %v", env)
	}
	s = u.Status()
	if s.Slots[updater.SlotB].State != updater.SlotGood || s.Slots[updater.SlotA].State != updater.SlotGood || s.Pending != nil || s.LastError != "" || s.Committed != updater.SlotB {
		t.Fatalf("committed status %+v", s)
	}
	// A committed system is never counted and never falls back.
	for i := 0; i < 3; i++ {
		b = r.boot()
		if b.Slot != updater.SlotB || b.Trial {
			t.Fatalf("boot %d after commit: %+v", i, b)
		}
		u = r.mustLockd(b)
		if s := u.Status(); s.Operation != "idle" || s.LastError != "" {
			t.Fatalf("boot %d after commit: %+v", i, s)
		}
		if env := r.env(); env[uboot.VarTryLeft] != "" || env[uboot.VarTry] != "" {
			t.Fatalf("boot %d counted: %v", i, env)
		}
	}
	// The security version is now 2: a bundle below it is refused even as
	// a downgrade the owner allows.
	err := install(t, u, r.bundle("1.5.0", bundleOpts{secVersion: 1}), updater.InstallOptions{AllowDowngrade: true})
	if err == nil || !strings.Contains(err.Error(), "security version") {
		t.Fatalf("install below the minimum security version: %v", err)
	}
}

// TestTrialNeverHealthy: a trial whose lockd never gets healthy is given up
// on every boot, tried exactly try_boots times, and the old slot reports
// it.
func TestTrialNeverHealthy(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	u := r.mustLockd(r.boot())
	if err := install(t, u, r.bundle("2.1.0", bundleOpts{}), updater.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	events, stop := u.Subscribe(8)
	defer stop()
	approveAndReboot(t, r, u)
	r.setHealth(errors.New("hardware: limit switches disagree"))
	trials := 0
	var b bootsim.Booted
	for {
		b = r.boot()
		if !b.Trial {
			break
		}
		trials++
		if trials > 5 {
			t.Fatal("trial boots without end")
		}
		u := r.mustLockd(b)
		for i := 0; i < 200 && len(r.takeGiveUps()) == 0; i++ {
			if i == 199 {
				t.Fatalf("trial %d never gave up: %+v", trials, u.Status())
			}
			u.Step(ctx)
			r.clock.Add(5 * time.Second)
		}
		if env := r.env(); env[uboot.VarSlot] != "A" {
			t.Fatalf("a failing trial committed: %v", env)
		}
	}
	if trials != 3 || b.Slot != updater.SlotA {
		t.Fatalf("%d trial boots, then %+v; want 3, then A", trials, b)
	}
	r.setHealth(nil)
	u = r.mustLockd(b)
	// The rollback New found is the first event a subscriber sees.
	ev, stopEv := u.Subscribe(4)
	defer stopEv()
	select {
	case e := <-ev:
		if e.Kind != "update-rolled-back" || e.Version != "2.1.0" || e.Slot != updater.SlotB {
			t.Fatalf("first event %+v", e)
		}
	default:
		t.Fatal("no rolled-back event for a subscriber after New")
	}
	s := u.Status()
	want := "update 2.1.0 rolled back after 3 failed boots of slot B"
	if s.LastError != want || s.Slots[updater.SlotB].State != updater.SlotBad || s.Pending != nil || s.Operation != "idle" {
		t.Fatalf("after fallback: %+v", s)
	}
	if last := s.History[len(s.History)-1]; last.Event != "rolled-back" || last.Version != "2.1.0" {
		t.Fatalf("history ends %+v", last)
	}
	if env := r.env(); env[uboot.VarTry] != "" || env[uboot.VarTryLeft] != "" || env[uboot.VarSlot] != "A" {
		t.Fatalf("env after fallback %v", env)
	}
	_ = events // the old updater's stream; the new one reports at start (see TestFallbackEvent)
	// The next boot is a plain committed boot: reported once, not again.
	u = r.mustLockd(r.boot())
	if s := u.Status(); s.LastError != want || s.Slots[updater.SlotB].State != updater.SlotBad {
		t.Fatalf("next boot: %+v", s)
	}
	if n := countEvents(u.Status().History, "rolled-back"); n != 1 {
		t.Fatalf("rolled-back recorded %d times", n)
	}
	// The owner acknowledges the report: it clears, once.
	if err := u.Reject(ctx); err != nil {
		t.Fatal(err)
	}
	if s := u.Status(); s.LastError != "" || s.History[len(s.History)-1].Event != "acknowledged" {
		t.Fatalf("after acknowledging: %+v", s)
	}
	if err := u.Reject(ctx); !errors.Is(err, updater.ErrNothing) {
		t.Fatalf("second acknowledgement: %v", err)
	}
	// Installing again works and replaces the bad slot.
	if err := install(t, u, r.bundle("2.1.1", bundleOpts{}), updater.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if s := u.Status(); s.Slots[updater.SlotB].State != updater.SlotInstalled || s.LastError != "" {
		t.Fatalf("reinstall: %+v", s)
	}
}

func countEvents(h []updater.Record, kind string) int {
	n := 0
	for _, r := range h {
		if r.Event == kind {
			n++
		}
	}
	return n
}

func TestRejectAndReinstall(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	u := r.mustLockd(r.boot())
	if err := u.Reject(ctx); !errors.Is(err, updater.ErrNothing) {
		t.Fatalf("reject with nothing pending: %v", err)
	}
	if err := install(t, u, r.bundle("2.0.0", bundleOpts{}), updater.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := u.Reject(ctx); err != nil {
		t.Fatal(err)
	}
	if s := u.Status(); s.Pending != nil || s.Operation != "idle" || s.Slots[updater.SlotB].State != updater.SlotEmpty {
		t.Fatalf("after reject: %+v", s)
	}
	if err := u.Approve(ctx); !errors.Is(err, updater.ErrNothing) {
		t.Fatalf("approve after reject: %v", err)
	}
	// A power cycle does not bring it back.
	u = r.mustLockd(r.boot())
	if b := u.Status(); b.Booted != updater.SlotA || b.Pending != nil {
		t.Fatalf("after reboot: %+v", b)
	}
	// Armed, then rejected before the reboot: disarmed.
	if err := install(t, u, r.bundle("2.0.1", bundleOpts{}), updater.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	r.setQuiet("")
	approveAndReboot(t, r, u)
	// The reboot did not happen (logind said no); lockd restarts in the
	// same boot and finds it armed.
	if err := u.Reject(ctx); !errors.Is(err, updater.ErrBusy) {
		t.Fatalf("reject while rebooting: %v", err)
	}
	if f, err := os.Open(r.bundle("2.0.2", bundleOpts{})); err != nil {
		t.Fatal(err)
	} else if err := u.Install(ctx, f, updater.InstallOptions{}); !errors.Is(err, updater.ErrBusy) || !strings.Contains(err.Error(), "rebooting") {
		t.Fatalf("install while rebooting: %v", err)
	}
	u = r.mustLockd(bootsim.Booted{Slot: updater.SlotA})
	if s := u.Status(); s.Operation != "armed" {
		t.Fatalf("restart while armed: %+v", s)
	}
	if err := u.Reject(ctx); err != nil {
		t.Fatal(err)
	}
	if env := r.env(); env[uboot.VarTry] != "" || env[uboot.VarTryLeft] != "" {
		t.Fatalf("env after reject: %v", env)
	}
	if b := r.boot(); b.Slot != updater.SlotA || b.Trial {
		t.Fatalf("boot after reject: %+v", b)
	}
}

func TestWindowPolicy(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	bl, err := r.m.Bootloader(nil)
	if err != nil {
		t.Fatal(err)
	}
	r.boot()
	cfg := func() updater.Config {
		return updater.Config{Bootloader: bl, StateFile: r.state,
			Slots:   map[updater.Slot]string{updater.SlotA: r.m.SlotPath(updater.SlotA), updater.SlotB: r.m.SlotPath(updater.SlotB)},
			Cmdline: r.m.Cmdline(), BootID: r.m.BootID(), KeysDir: r.keys, Compatible: compatible,
			BootedVersion: "1.0.0", Policy: updater.RebootWindow, Window: [2]int{23 * 60, 1 * 60},
			Now: r.clock.Now, Log: testLog(t), Quiet: func() string { return "" },
			Reboot: func(context.Context, string) error {
				r.mu.Lock()
				r.reboots = append(r.reboots, "")
				r.mu.Unlock()
				return nil
			}}
	}
	u, err := updater.New(ctx, cfg())
	if err != nil {
		t.Fatal(err)
	}
	if err := install(t, u, r.bundle("2.0.0", bundleOpts{}), updater.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	u.Step(ctx) // 12:00 UTC: outside 23:00-01:00
	if got := r.takeReboots(); len(got) != 0 || !strings.Contains(u.Status().Waiting, "23:00-01:00") {
		t.Fatalf("outside the window: %q %q", got, u.Status().Waiting)
	}
	r.clock.Add(12*time.Hour + 30*time.Minute) // 00:30, inside across midnight
	u.Step(ctx)
	if got := r.takeReboots(); len(got) != 1 {
		t.Fatalf("inside the window: %q %+v", got, u.Status())
	}
}

func TestUnavailable(t *testing.T) {
	ctx := context.Background()
	t.Run("no lockd.slot", func(t *testing.T) {
		r := newRig(t)
		r.boot()
		if err := os.WriteFile(r.m.Cmdline(), []byte("root=/dev/sda1\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		u := r.mustLockd(bootsim.Booted{Slot: updater.SlotA})
		s := u.Status()
		if s.Operation != "unavailable" || !strings.Contains(s.LastError, "lockd.slot=") {
			t.Fatalf("status %+v", s)
		}
		f, _ := os.Open(r.bundle("2.0.0", bundleOpts{}))
		before := r.files()
		if err := u.Install(ctx, f, updater.InstallOptions{}); !errors.Is(err, updater.ErrUnavailable) {
			t.Fatalf("install: %v", err)
		}
		assertUnchanged(t, before, r.files())
	})
	t.Run("corrupt state file", func(t *testing.T) {
		r := newRig(t)
		r.boot()
		if err := os.WriteFile(r.state, []byte(`{"format":1,"slots":{"C":{}}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		before := r.files()
		u := r.mustLockd(bootsim.Booted{Slot: updater.SlotA})
		if s := u.Status(); s.Operation != "unavailable" || !strings.Contains(s.LastError, "unknown slot") {
			t.Fatalf("status %+v", s)
		}
		f, _ := os.Open(r.bundle("2.0.0", bundleOpts{}))
		if err := u.Install(ctx, f, updater.InstallOptions{}); !errors.Is(err, updater.ErrUnavailable) {
			t.Fatalf("install: %v", err)
		}
		assertUnchanged(t, before, r.files())
	})
	t.Run("corrupt environment", func(t *testing.T) {
		r := newRig(t)
		r.boot()
		b, _ := os.ReadFile(r.m.EnvPath())
		b[10] ^= 0xff
		if err := os.WriteFile(r.m.EnvPath(), b, 0o600); err != nil {
			t.Fatal(err)
		}
		before := r.files()
		u := r.mustLockd(bootsim.Booted{Slot: updater.SlotA})
		if s := u.Status(); s.Operation != "unavailable" {
			t.Fatalf("status %+v", s)
		}
		assertUnchanged(t, before, r.files())
	})
	t.Run("corrupt state file on a trial boot", func(t *testing.T) {
		r := newRig(t)
		u := r.mustLockd(r.boot())
		if err := install(t, u, r.bundle("2.0.0", bundleOpts{}), updater.InstallOptions{}); err != nil {
			t.Fatal(err)
		}
		approveAndReboot(t, r, u)
		b := r.boot()
		if err := os.WriteFile(r.state, []byte("{garbage"), 0o600); err != nil {
			t.Fatal(err)
		}
		u = r.mustLockd(b)
		u.Step(ctx)
		if got := r.takeGiveUps(); len(got) != 1 || !strings.Contains(got[0], "unavailable on a trial boot") {
			t.Fatalf("give-ups %q", got)
		}
		u.Step(ctx)
		if got := r.takeGiveUps(); len(got) != 0 {
			t.Fatalf("gave up again: %q", got)
		}
		if env := r.env(); env[uboot.VarSlot] != "A" {
			t.Fatalf("committed with a broken updater: %v", env)
		}
	})
	t.Run("root names the other slot", func(t *testing.T) {
		r := newRig(t)
		r.boot()
		line := "root=" + r.m.SlotPath(updater.SlotB) + " lockd.slot=A\n"
		if err := os.WriteFile(r.m.Cmdline(), []byte(line), 0o600); err != nil {
			t.Fatal(err)
		}
		u := r.mustLockd(bootsim.Booted{Slot: updater.SlotA})
		if s := u.Status(); s.Operation != "unavailable" || !strings.Contains(s.LastError, "slot B's device") {
			t.Fatalf("status %+v", s)
		}
	})
}

func assertUnchanged(t *testing.T, before, after map[string][]byte) {
	t.Helper()
	for p, b := range before {
		if string(after[p]) != string(b) {
			t.Errorf("%s changed", p)
		}
	}
}

// TestTrialCommitKeepsFailing: a healthy trial whose commit cannot be
// written gives the trial up at its deadline instead of running
// uncommitted for ever.
func TestTrialCommitKeepsFailing(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	b := bootTrial(t, r, "2.0.0")
	// The environment becomes unwritable after the trial started: every
	// storage-changing operation fails.
	st := &ubootenvtest.Storage{CutAt: 1}
	bl, err := r.m.Bootloader(st)
	if err != nil {
		t.Fatal(err)
	}
	u, err := updater.New(ctx, updater.Config{Bootloader: bl, StateFile: r.state,
		Slots:   map[updater.Slot]string{updater.SlotA: r.m.SlotPath(updater.SlotA), updater.SlotB: r.m.SlotPath(updater.SlotB)},
		Cmdline: r.m.Cmdline(), BootID: r.m.BootID(), KeysDir: r.keys, Compatible: compatible,
		CommitAfter: time.Minute, Now: r.clock.Now, Log: testLog(t),
		Health: func() error { return nil },
		GiveUp: func(reason string) { r.mu.Lock(); r.giveUps = append(r.giveUps, reason); r.mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	if s := u.Status(); s.Operation != "trial" {
		t.Fatalf("status %+v on %+v", s, b)
	}
	for i := 0; i < 200 && len(r.giveUps) == 0; i++ {
		u.Step(ctx)
		r.clock.Add(5 * time.Second)
	}
	got := r.takeGiveUps()
	if len(got) != 1 || !strings.Contains(got[0], "commit failed") {
		t.Fatalf("give-ups %q", got)
	}
	if env := r.env(); env[uboot.VarSlot] != "A" {
		t.Fatalf("env %v", env)
	}
}

package updater_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/uboot"
	"lockd.dev/lockd/updater/ubootenv"
)

// TestInstallWhileTheSwitchAsksTheLock starts an install at the moment the
// Run loop has decided to reboot into an approved update and asks the lock
// whether it may: the install wins, and the loop neither checks nor arms
// the slot the install is writing.
func TestInstallWhileTheSwitchAsksTheLock(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	u := r.mustLockd(r.boot())
	if err := install(t, u, r.bundle("2.0.0", bundleOpts{}), updater.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := u.Approve(ctx); err != nil {
		t.Fatal(err)
	}
	v3 := r.bundle("3.0.0", bundleOpts{})
	r.mu.Lock()
	r.onQuiet = func() {
		f, err := os.Open(v3)
		if err != nil {
			t.Error(err)
			return
		}
		if err := u.Install(ctx, f, updater.InstallOptions{}); err != nil {
			t.Errorf("install while the switch waits for the lock: %v", err)
		}
	}
	r.mu.Unlock()
	u.Step(ctx)
	if err := waitRest(t, u); err != nil {
		t.Fatalf("install: %v", err)
	}
	if got := r.takeReboots(); len(got) != 0 {
		t.Fatalf("rebooted while an install ran: %q", got)
	}
	if env := r.env(); env[uboot.VarTry] != "" {
		t.Fatalf("armed while an install ran: %v", env)
	}
	s := u.Status()
	if s.Pending == nil || s.Pending.Version != "3.0.0" || s.Pending.Approved || s.Operation != "pending" {
		t.Fatalf("after the install: %+v (pending %+v)", s, s.Pending)
	}
	if got := versionIn(t, r.m.SlotPath(updater.SlotB)); got != "3.0.0" {
		t.Fatalf("slot B holds %q", got)
	}
}

// TestRejectWhileTheSlotIsChecked tries Reject and Install while the
// switch hashes the slot before arming it: both are refused as busy, and
// the switch arms what it checked.
func TestRejectWhileTheSlotIsChecked(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	gate := &gateStorage{path: r.m.SlotPath(updater.SlotB), entered: make(chan struct{}), release: make(chan struct{})}
	u, err := r.lockd(r.boot(), gate)
	if err != nil {
		t.Fatal(err)
	}
	if err := install(t, u, r.bundle("2.0.0", bundleOpts{}), updater.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := u.Approve(ctx); err != nil {
		t.Fatal(err)
	}
	gate.armed.Store(true)
	stepped := make(chan struct{})
	go func() { u.Step(ctx); close(stepped) }()
	<-gate.entered
	if s := u.Status(); s.Operation != "checking" {
		t.Errorf("while the slot is checked: operation %q", s.Operation)
	}
	if err := u.Reject(ctx); !errors.Is(err, updater.ErrBusy) {
		t.Errorf("reject while the slot is checked: %v, want ErrBusy", err)
	}
	f, err := os.Open(r.bundle("3.0.0", bundleOpts{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Install(ctx, f, updater.InstallOptions{}); !errors.Is(err, updater.ErrBusy) {
		t.Errorf("install while the slot is checked: %v, want ErrBusy", err)
	}
	close(gate.release)
	<-stepped
	if got := r.takeReboots(); len(got) != 1 {
		t.Fatalf("reboots: %q (status %+v)", got, u.Status())
	}
	if env := r.env(); env[uboot.VarTry] != string(updater.SlotB) {
		t.Fatalf("not armed: %v", env)
	}
	if s := u.Status(); s.Pending == nil || s.Pending.Version != "2.0.0" || s.Pending.Phase != updater.PhaseArmed {
		t.Fatalf("after the switch: %+v", s.Pending)
	}
}

// TestSecondInstallWhileWriting starts an install while another one is
// writing the slot: it is refused as busy and changes nothing, and the
// first ends pending.
func TestSecondInstallWhileWriting(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	gate := &gateStorage{path: r.m.SlotPath(updater.SlotB), write: true, entered: make(chan struct{}), release: make(chan struct{})}
	gate.armed.Store(true)
	u, err := r.lockd(r.boot(), gate)
	if err != nil {
		t.Fatal(err)
	}
	f1, err := os.Open(r.bundle("2.0.0", bundleOpts{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Install(ctx, f1, updater.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	<-gate.entered // the first install is about to write slot B
	f2, err := os.Open(r.bundle("3.0.0", bundleOpts{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Install(ctx, f2, updater.InstallOptions{}); !errors.Is(err, updater.ErrBusy) {
		t.Errorf("second install while the first writes: %v, want ErrBusy", err)
	}
	close(gate.release)
	if err := waitRest(t, u); err != nil {
		t.Fatal(err)
	}
	if s := u.Status(); s.Pending == nil || s.Pending.Version != "2.0.0" || s.Operation != "pending" {
		t.Fatalf("after both: %+v (pending %+v)", s, s.Pending)
	}
	if got := versionIn(t, r.m.SlotPath(updater.SlotB)); got != "2.0.0" {
		t.Fatalf("slot B holds %q", got)
	}
}

// gateStorage is the real file system, except that once armed, the first
// open of path, read-only or (write) for writing, waits for release after
// closing entered.
type gateStorage struct {
	ubootenv.OS
	path             string
	write            bool
	armed            atomic.Bool
	once             sync.Once
	entered, release chan struct{}
}

func (g *gateStorage) Open(path string, flag int, perm fs.FileMode) (ubootenv.Device, error) {
	writing := flag&(os.O_WRONLY|os.O_RDWR) != 0
	if path == g.path && writing == g.write && g.armed.Load() {
		g.once.Do(func() {
			close(g.entered)
			<-g.release
		})
	}
	return g.OS.Open(path, flag, perm)
}

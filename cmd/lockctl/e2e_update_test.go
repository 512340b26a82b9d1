package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/dbusapi"
	"lockd.dev/lockd/internal/dbustest"
	"lockd.dev/lockd/lock"
	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/bootsim"
	"lockd.dev/lockd/updater/bundle"
	"lockd.dev/lockd/updater/bundle/bundletest"
	"lockd.dev/lockd/updater/uboot"
)

// The update tests run lockd's real D-Bus service (package dbusapi) with a
// real updater on a simulated unit (updater/bootsim: file-backed slots and
// U-Boot environment) in the test process, on a private system bus with
// the shipped policy, and the real lockctl binary against it. lockd itself
// is not started: cmd/lockd wires the updater separately.

const (
	unitCompatible = "acme,door-1"
	unitSlotSize   = 2 << 20
)

// updateUnit is the simulated unit behind the service.
type updateUnit struct {
	dir  string
	m    bootsim.Machine
	priv ed25519.PrivateKey

	mu      sync.Mutex
	reboots []string
}

// quietLock is a lock core at rest: Update1 needs only Lock1 beside it.
type quietLock struct{}

func (quietLock) Status() lock.Status                        { return lock.Status{State: lock.StateLocked} }
func (quietLock) Lock(context.Context, string, int) error    { return nil }
func (quietLock) Unlock(context.Context, string, int) error  { return nil }
func (quietLock) Subscribe(int) (<-chan lock.Event, func())  { return make(chan lock.Event), func() {} }
func (quietLock) Refresh(context.Context) error              { return nil }
func (quietLock) Announce(context.Context, lock.Event) error { return nil }
func (u *updateUnit) rebooted() []string                     { u.mu.Lock(); defer u.mu.Unlock(); return u.reboots }
func (u *updateUnit) bundlePath(version, compat string) string {
	return filepath.Join(u.dir, version+"-"+compat+".lockd")
}
func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
func (u *updateUnit) env(t *testing.T) (*uboot.Bootloader, error) {
	t.Helper()
	return u.m.Bootloader(nil)
}

// startUpdater serves Update1 on r's bus, backed by a fresh unit running
// version 1.0.0 on slot A with reboot policy approve.
func startUpdater(t *testing.T, r *rig) *updateUnit {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	u := &updateUnit{dir: t.TempDir()}
	var err error
	if u.m, err = bootsim.Create(filepath.Join(u.dir, "boot"), unitSlotSize); err != nil {
		t.Fatal(err)
	}
	if _, err := u.m.Boot(ctx); err != nil {
		t.Fatal(err)
	}
	bl, err := u.env(t)
	if err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(u.dir, "keys")
	if err := os.MkdirAll(keys, 0o700); err != nil {
		t.Fatal(err)
	}
	_, u.priv, _ = ed25519.GenerateKey(rand.Reader)
	if err := bundle.WriteKeyPair(filepath.Join(keys, "vendor"), u.priv); err != nil {
		t.Fatal(err)
	}
	upd, err := updater.New(ctx, updater.Config{
		Bootloader: bl, StateFile: filepath.Join(u.dir, "update.json"),
		Slots:   map[updater.Slot]string{updater.SlotA: u.m.SlotPath(updater.SlotA), updater.SlotB: u.m.SlotPath(updater.SlotB)},
		Cmdline: u.m.Cmdline(), BootID: u.m.BootID(), KeysDir: keys, Compatible: unitCompatible, BootedVersion: "1.0.0",
		Policy: updater.RebootApprove, Quiet: func() string { return "" }, Health: func() error { return nil },
		Reboot: func(_ context.Context, param string) error {
			u.mu.Lock()
			defer u.mu.Unlock()
			u.reboots = append(u.reboots, param)
			return nil
		},
		Log: discardLog(),
	})
	if err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(u.dir, "codes")
	if _, err := codes.FactoryInit(store, false); err != nil {
		t.Fatal(err)
	}
	st, err := codes.Open(ctx, codes.Options{Dir: store})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := dbusapi.New(dbusapi.Config{Conn: r.bus.Conn(t), Lock: quietLock{}, Codes: st, Updater: upd, Log: discardLog()})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	served := make(chan error, 1)
	go func() { defer wg.Done(); served <- svc.Serve(ctx) }()
	go func() { defer wg.Done(); _ = upd.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
		st.Close()
	})
	select {
	case <-svc.Ready():
	case err := <-served:
		t.Fatalf("Serve: %v", err)
	}
	return u
}

// writeBundle writes a signed bundle readable by anyone.
func (u *updateUnit) writeBundle(t *testing.T, version, compat string) string {
	t.Helper()
	img := bytes.Repeat([]byte("rootfs "+version+" "), 60000)
	data := bundletest.Make(t, u.priv, img, bundletest.Options{Compatible: compat, Version: version})
	p := u.bundlePath(version, compat)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestE2EUpdateReal(t *testing.T) {
	dbustest.RequireRoot(t)
	dbustest.Need(t, "dbus-daemon")
	dbustest.Need(t, "setpriv")
	r := &rig{t: t, groups: dbustest.EnsureGroups(t), bin: buildBinaries(t)}
	r.bus = dbustest.Start(t, dbustest.Options{})
	u := startUpdater(t, r)
	if err := os.Chmod(u.dir, 0o755); err != nil { // unprivileged lockctl opens bundles here
		t.Fatal(err)
	}
	events := r.events()

	res := r.want(0, "", "update", "status")
	wantOutput(t, res, "Booted slot: A", "Operation: idle", "A     good       yes     yes        1.0.0",
		"B     empty      no      no         -", "Pending: none", "Reboot policy: approve", "Last error: none", "first-boot")

	// Install v2: lockctl passes the descriptor, shows progress, ends pending.
	v2 := u.writeBundle(t, "2.0.0", unitCompatible)
	res = r.want(0, "", "update", "install", v2)
	wantOutput(t, res, "Update 2.0.0 installed in slot B (pending).")
	// Progress goes to stderr while the install runs; this small bundle
	// may be written before lockctl reads a phase, so none is required.
	t.Logf("progress:\n%s", res.stderr)
	r.waitEvent(events, "update-installed")
	// The updater says what the update waits for at its next turn (1 s).
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		res = r.want(0, "", "update", "status")
		if strings.Contains(res.stdout, "Waiting for:") || time.Now().After(deadline) {
			break
		}
	}
	wantOutput(t, res, "Operation: pending", "B     installed  no      no         2.0.0",
		"Pending: 2.0.0 in slot B (installed, not approved)", "Waiting for: approval (lockctl update approve)", "installed    B 2.0.0")
	res = r.want(0, "", "--json", "update", "status")
	wantOutput(t, res, `"operation": "pending"`, `"booted_slot": "A"`, `"version": "2.0.0"`, `"approved": false`,
		`"policy": "approve"`, `"event": "installed"`)

	// Reject: the slot is forgotten.
	res = r.want(0, "", "update", "reject")
	wantOutput(t, res, "Update rejected.")
	r.waitEvent(events, "update-rejected")
	res = r.want(0, "", "update", "status")
	wantOutput(t, res, "Operation: idle", "B     empty      no      no         -", "Pending: none", "rejected     B 2.0.0")
	res = r.want(1, "", "update", "approve")
	wantOutput(t, res, "lockctl: update approve: no update is pending")

	// Refusals: other hardware, a downgrade without the flag.
	other := u.writeBundle(t, "3.0.0", "other,board")
	res = r.want(1, "", "update", "install", other)
	wantOutput(t, res, `lockctl: update install: bundle: incompatible: bundle is for "other,board", this unit is "acme,door-1"`)
	old := u.writeBundle(t, "0.9.0", unitCompatible)
	res = r.want(1, "", "update", "install", old)
	wantOutput(t, res, "not newer than the booted 1.0.0")
	res = r.want(0, "", "update", "install", "--allow-downgrade", old)
	wantOutput(t, res, "Update 0.9.0 installed in slot B")

	// Unprivileged callers: the bus refuses group lockd and nobody.
	for _, who := range []who{r.reader(), nobody} {
		res = r.wantAs(who, 1, "", "update", "install", v2)
		wantOutput(t, res, "permission denied")
		res = r.wantAs(who, 1, "", "update", "approve")
		wantOutput(t, res, "permission denied")
	}
	res = r.wantAs(r.reader(), 1, "", "update", "install", v2)
	wantOutput(t, res, "permission denied: io.lockd.Update1.Install needs root or group lockd-admin")
	res = r.wantAs(r.reader(), 0, "", "update", "status")
	wantOutput(t, res, "Pending: 0.9.0 in slot B")

	// v2 again, replacing 0.9.0, then approve: armed and rebooted.
	r.want(0, "", "update", "install", v2)
	res = r.want(0, "", "update", "approve")
	wantOutput(t, res, "Update approved.")
	r.waitEvent(events, "update-armed")
	deadline := time.Now().Add(10 * time.Second)
	for len(u.rebooted()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := u.rebooted(); len(got) != 1 {
		t.Fatalf("reboots after approval: %q", got)
	}
	bl, err := u.env(t)
	if err != nil {
		t.Fatal(err)
	}
	if bs, err := bl.State(context.Background()); err != nil || bs.Trial != updater.SlotB {
		t.Errorf("boot state after approval: %+v, %v; want slot B armed", bs, err)
	}
	res = r.want(0, "", "update", "status")
	wantOutput(t, res, "Operation: rebooting", "Pending: 2.0.0 in slot B (armed, approved)")
	res = r.want(1, "", "update", "install", v2)
	wantOutput(t, res, "lockctl: update install: busy: ")
	// The audit log has the requests and what the updater did.
	res = r.want(0, "", "log", "-n", "30")
	wantOutput(t, res, "update-install", "update-installed", "update-refused", "update-reject", "update-approve", "update-armed")
}

package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/internal/dbustest"
	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/bootsim"
	"lockd.dev/lockd/updater/bundle"
	"lockd.dev/lockd/updater/bundle/bundletest"
	"lockd.dev/lockd/updater/uboot"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// lockdBinary builds lockd once for the tests that run the real binary.
func lockdBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lockd-bin")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "lockd")
		if out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// simUnit is lockd --sim with a config whose [update] uses the simulated
// boot chain: every start of the binary is a power-on.
type simUnit struct {
	dir, conf, keys string
	priv            ed25519.PrivateKey
	bus             string
	stdout          *bytes.Buffer // of the last start; read it after lockd exited
}

func newSimUnit(t *testing.T, bus string, extra string) *simUnit {
	t.Helper()
	u := &simUnit{dir: t.TempDir(), bus: bus}
	u.keys = filepath.Join(u.dir, "keys")
	if err := os.Mkdir(u.keys, 0o700); err != nil {
		t.Fatal(err)
	}
	_, u.priv, _ = ed25519.GenerateKey(rand.Reader)
	if err := bundle.WriteKeyPair(filepath.Join(u.keys, "vendor"), u.priv); err != nil {
		t.Fatal(err)
	}
	u.conf = filepath.Join(u.dir, "lockd.toml")
	toml := fmt.Sprintf("[update]\ncompatible = \"acme,sim\"\nkeys = %q\nbootloader = \"sim\"\ncommit_after = 1\nreboot = \"auto\"\nversion_file = \"\"\n%s", u.keys, extra)
	if err := os.WriteFile(u.conf, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	return u
}

// start runs one power cycle of the unit: lockd until it exits or the
// test gives up on it.
func (u *simUnit) start(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(lockdBinary(t), "--sim", "--config", u.conf, "--state-dir", filepath.Join(u.dir, "state"), "--bus", u.bus)
	cmd.Stderr = &testWriter{t: t}
	u.stdout = new(bytes.Buffer)
	cmd.Stdout = u.stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// env reads the simulated machine's U-Boot environment.
func (u *simUnit) env(t *testing.T) map[string]string {
	t.Helper()
	m := bootsim.Machine{Dir: filepath.Join(u.dir, "state", "sim-boot")}
	out, err := exec.Command("fw_printenv", "-c", m.FwEnvConfig(), "-f", filepath.Join(u.dir, "none")).Output()
	if err != nil {
		t.Fatalf("fw_printenv: %v", err)
	}
	vars := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(l, "=")
		vars[k] = v
	}
	return vars
}

func (u *simUnit) state(t *testing.T) updater.State {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(u.dir, "state", "update.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s updater.State
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// waitExit waits for lockd to end by itself and returns its exit code.
func waitExit(t *testing.T, cmd *exec.Cmd, within time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(within):
		t.Fatalf("lockd still running after %v", within)
	}
	return -1
}

type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestSimUpdateCycle runs the real binary through a whole update on the
// simulated boot chain: Install over D-Bus (a file descriptor), the auto
// policy reboots once the lock is quiet (a simulated reboot ends lockd),
// the next start boots B on trial, lockd proves itself healthy for
// commit_after and commits through the environment.
func TestSimUpdateCycle(t *testing.T) {
	dbustest.Need(t, "fw_printenv")
	bus := dbustest.Start(t, dbustest.Options{})
	u := newSimUnit(t, bus.Address, "")
	cmd := u.start(t)
	conn := waitBus(t, bus.Address)
	img := make([]byte, 3<<20)
	copy(img, "ROOTFS 1.0.0")
	path := filepath.Join(u.dir, "v1.lockd")
	if err := os.WriteFile(path, bundletest.Make(t, u.priv, img, bundletest.Options{Compatible: "acme,sim", Version: "1.0.0"}), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	obj := conn.Object(wire.BusName, wire.ObjectPath)
	if err := obj.Call(wire.Update1+".Install", 0, dbus.UnixFD(f.Fd())).Err; err != nil {
		t.Fatalf("Install: %v", err)
	}
	f.Close()
	if code := waitExit(t, cmd, 30*time.Second); code != 0 {
		t.Fatalf("simulated reboot: lockd exited %d", code)
	}
	// What the terminal keeps once the panel has gone.
	if got, want := u.stdout.String(), "lockd: the simulated unit reboots into slot B on trial. Start it again to power it on: make run (or the same lockd --sim command).\n"; got != want {
		t.Errorf("stdout after the simulated reboot:\n got %q\nwant %q", got, want)
	}
	if env := u.env(t); env["lockd_try"] != "B" || env["lockd_try_left"] != "3" {
		t.Fatalf("armed env %v", env)
	}
	// Power-on: B on trial; commit_after = 1 s healthy.
	cmd = u.start(t)
	deadline := time.Now().Add(20 * time.Second)
	for u.env(t)["lockd_slot"] != "B" {
		if time.Now().After(deadline) {
			t.Fatalf("no commit: env %v", u.env(t))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if env := u.env(t); env["lockd_try"] != "" || env["lockd_try_left"] != "" {
		t.Fatalf("committed env %v", env)
	}
	if st := u.state(t); st.Slots[updater.SlotB].State != updater.SlotGood || st.Slots[updater.SlotB].Version != "1.0.0" || st.Pending != nil {
		t.Fatalf("state %+v", st)
	}
	if cmd.ProcessState != nil {
		t.Fatal("lockd exited on a good trial")
	}
}

// TestSimTrialGivesUp: a trial lockd that cannot become healthy (no D-Bus
// here) exits non-zero after 3×commit_after, each start spends a trial
// boot, and after try_boots the old slot boots and reports the rollback.
func TestSimTrialGivesUp(t *testing.T) {
	dbustest.Need(t, "fw_printenv")
	u := newSimUnit(t, "unix:path=/nonexistent/bus", "try_boots = 2\n")
	// First power-on creates the machine; then arm a trial of B by hand,
	// with B holding an installed image, as an install would have.
	cmd := u.start(t)
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	waitExit(t, cmd, 10*time.Second)
	m := bootsim.Machine{Dir: filepath.Join(u.dir, "state", "sim-boot")}
	bl, err := m.Bootloader(nil)
	if err != nil {
		t.Fatal(err)
	}
	st := u.state(t)
	st.Slots[updater.SlotB] = updater.SlotInfo{State: updater.SlotInstalled, Version: "9.0.0"}
	st.Pending = &updater.Pending{Slot: updater.SlotB, Version: "9.0.0", FromVersion: "0.0.0", Phase: updater.PhaseArmed, ArmedBoot: "earlier"}
	b, _ := json.Marshal(st)
	if err := os.WriteFile(filepath.Join(u.dir, "state", "update.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := bl.Arm(context.Background(), updater.SlotB, 2); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		cmd := u.start(t)
		if code := waitExit(t, cmd, 20*time.Second); code != 1 {
			t.Fatalf("trial %d: lockd exited %d, want 1", i+1, code)
		}
		if env := u.env(t); env[uboot.VarSlot] != "A" {
			t.Fatalf("a failing trial committed: %v", env)
		}
	}
	cmd = u.start(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if s := u.state(t); s.LastError != "" {
			if want := "update 9.0.0 rolled back after 2 failed boots of slot B"; s.LastError != want || s.Slots[updater.SlotB].State != updater.SlotBad {
				t.Fatalf("after fallback: %q, %+v; want %q", s.LastError, s.Slots, want)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no rollback report: %+v", u.state(t))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if env := u.env(t); env[uboot.VarTry] != "" || env[uboot.VarTryLeft] != "" {
		t.Fatalf("env after fallback %v", env)
	}
	time.Sleep(2 * time.Second) // longer than a trial's 3×commit_after: A is committed, nothing gives up
	if cmd.ProcessState != nil {
		t.Fatal("lockd on the committed slot exited")
	}
}

// waitBus connects to the bus and waits for lockd's name.
func waitBus(t *testing.T, addr string) *dbus.Conn {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	for i := 0; ; i++ {
		var has bool
		if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, wire.BusName).Store(&has); err == nil && has {
			return conn
		}
		if i == 200 {
			t.Fatal("lockd never owned its bus name")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSimRebootNotice: a simulated reboot is a clean exit that leaves one
// line saying what boots next; other errors pass through unsaid.
func TestSimRebootNotice(t *testing.T) {
	var b bytes.Buffer
	if err := sayRebooted(&b, simReboot{next: updater.SlotA}); err != nil || b.String() !=
		"lockd: the simulated unit reboots into slot A. Start it again to power it on: make run (or the same lockd --sim command).\n" {
		t.Errorf("committed slot: %v %q", err, b.String())
	}
	b.Reset()
	if err := sayRebooted(&b, errTrialFailed); err != errTrialFailed || b.Len() != 0 {
		t.Errorf("trial failure: %v %q; want it returned and nothing said", err, b.String())
	}
}

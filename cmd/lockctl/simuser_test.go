package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lockd.dev/lockd/internal/dbustest"
	"lockd.dev/lockd/internal/simbus"
)

// TestSimulatorWithoutRoot: `make run` as an ordinary user, then
// `lockctl --bus sim` as the same user in a second terminal, administers
// the simulated lock. Only that user can reach the simulator's private
// bus, so lockd admits it like root there (dbusapi.Config.OwnUserIsAdmin);
// before, every call was denied unless the user was root or in
// lockd-admin.
func TestSimulatorWithoutRoot(t *testing.T) {
	dbustest.RequireRoot(t) // to become another user
	dbustestNeed(t)
	bins := buildBinaries(t)
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(home, dbustest.Nobody, dbustest.Nobody); err != nil {
		t.Fatal(err)
	}
	asUser := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command("setpriv", append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", "--",
			filepath.Join(bins, name)}, args...)...)
		cmd.Dir, cmd.Env = home, append(recipeEnv(), "HOME="+home)
		return cmd
	}
	lockd := asUser("lockd", "--sim", "--state-dir", simbus.DefaultDir)
	var stderr strings.Builder
	lockd.Stderr = &stderr
	if err := lockd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lockd.Process.Kill(); _ = lockd.Wait() })
	addrFile := filepath.Join(home, simbus.DefaultDir, simbus.AddressFile)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(addrFile); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s: lockd --sim as nobody:\n%s", addrFile, stderr.String())
		}
	}
	for _, args := range [][]string{
		{"--bus", "sim", "status"},
		{"--bus", "sim", "unlock"},
		{"--bus", "sim", "lock"},
		{"--bus", "sim", "log", "-n", "3"},
	} {
		out, err := asUser("lockctl", args...).CombinedOutput()
		if err != nil {
			t.Errorf("lockctl %s as the user who started the simulator: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

package systemd_test

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"lockd.dev/lockd/internal/testtool"
)

// readyTimeout bounds lockd's start in TestDeploy: open the store, start
// its private bus, say "lockd ready".
const readyTimeout = 60 * time.Second

// TestDeploy follows the README's "Deploy" steps into a tree, as an image
// build does: make install DESTDIR, the users (systemd-sysusers --root),
// the state directory (systemd-tmpfiles --root), then factory-init as root
// into the tree's /var/lib/lockd. lockd then starts as user lockd, as
// lockd.service runs it, on the simulated board with the installed
// configuration, and must find its device key: a key only root can read
// leaves the keypad closed ("code store unavailable: keypad closed").
func TestDeploy(t *testing.T) {
	testtool.NeedRoot(t, "factory-init as root and lockd as user lockd")
	sysusers := testtool.Need(t, "systemd-sysusers", "systemd")
	tmpfiles := testtool.Need(t, "systemd-tmpfiles", "systemd")
	testtool.Need(t, "dbus-daemon", "dbus")

	bin := buildLockd(t)
	root := t.TempDir()
	// User lockd must reach the tree: t.TempDir's directories are 0700.
	for _, d := range []string{root, filepath.Dir(root)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	makeInstall(t, "DESTDIR="+root, "PREFIX=/usr", "BIN="+bin)
	run(t, nil, sysusers, "--root="+root)
	run(t, nil, tmpfiles, "--root="+root, "--create", "lockd.conf")

	uid, gid := lookupUser(t, root, "lockd")
	state := filepath.Join(root, "var/lib/lockd")
	lockd := filepath.Join(root, "usr/bin/lockd")
	out := run(t, nil, lockd, "factory-init", "--state-dir", state)
	if !strings.Contains(out, "Setup code") {
		t.Fatalf("factory-init printed no setup code:\n%s", out)
	}
	for _, name := range []string{"device.key", "setup.digest", "lockd.lock"} {
		fi, err := os.Stat(filepath.Join(state, name))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if int(st.Uid) != uid || int(st.Gid) != gid || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %d:%d after factory-init as root, want -rw------- %d:%d (user lockd of the tree)",
				name, fi.Mode(), st.Uid, st.Gid, uid, gid)
		}
	}

	cmd := asUser(t, root, uid, gid, lockd, "--sim", "--config", filepath.Join(root, "etc/lockd/lockd.toml"), "--state-dir", state)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() })
	log := readUntil(t, stderr, "lockd ready")
	if strings.Contains(log, "keypad closed") || strings.Contains(log, "device key") {
		t.Errorf("lockd as user lockd cannot use the state factory-init made:\n%s", log)
	}
	addr, err := os.ReadFile(filepath.Join(state, "bus"))
	if err != nil {
		t.Fatalf("lockd --sim wrote no bus address: %v\n%s", err, log)
	}
	ctl := asUser(t, root, uid, gid, filepath.Join(root, "usr/bin/lockctl"), "--bus", strings.TrimSpace(string(addr)), "status")
	status, err := ctl.CombinedOutput()
	if err != nil || !strings.Contains(string(status), "SETUP INCOMPLETE") || strings.Contains(string(status), "codes:") {
		t.Errorf("lockctl status as user lockd: %v, want SETUP INCOMPLETE and no codes warning:\n%s\nlockd's log:\n%s", err, status, log)
	}
}

// asUser runs a command as uid:gid, a user of the tree at root that the
// test machine does not know: in a mount namespace of its own where the
// tree's passwd and group files stand in for the machine's, because
// dbus-daemon looks up whoever connects and refuses an unknown user.
func asUser(t *testing.T, root string, uid, gid int, name string, args ...string) *exec.Cmd {
	t.Helper()
	unshare := testtool.Need(t, "unshare", "util-linux")
	setpriv := testtool.Need(t, "setpriv", "util-linux")
	script := `mount --bind "$1/etc/passwd" /etc/passwd && mount --bind "$1/etc/group" /etc/group && shift && exec "$@"`
	argv := append([]string{"--mount", "--", "sh", "-c", script, "sh", root,
		setpriv, "--reuid=" + strconv.Itoa(uid), "--regid=" + strconv.Itoa(gid), "--clear-groups", "--", name}, args...)
	cmd := exec.Command(unshare, argv...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C.UTF-8"}
	return cmd
}

// readUntil returns what r says up to and including the first line that
// holds want, failing the test when r ends first or readyTimeout passes.
func readUntil(t *testing.T, r io.Reader, want string) string {
	t.Helper()
	var b bytes.Buffer
	found := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), want) {
				found <- true
				return
			}
		}
		found <- false
	}()
	select {
	case ok := <-found:
		if !ok {
			t.Fatalf("lockd ended before %q:\n%s", want, b.String())
		}
	case <-time.After(readyTimeout):
		t.Fatalf("no %q within %v", want, readyTimeout) // b is still being written
	}
	return b.String()
}

// lookupUser finds name in the tree's /etc/passwd, which systemd-sysusers
// --root wrote: the test machine need not know the user.
func lookupUser(t *testing.T, root, name string) (uid, gid int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Split(l, ":")
		if len(f) > 3 && f[0] == name {
			uid, _ = strconv.Atoi(f[2])
			gid, _ = strconv.Atoi(f[3])
			return uid, gid
		}
	}
	t.Fatalf("systemd-sysusers --root made no user %s:\n%s", name, b)
	return 0, 0
}

// buildLockd builds the real lockd, lockctl and lockd-mqtt into a directory every
// user may run them from.
func buildLockd(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-o", dir+"/", "lockd.dev/lockd/cmd/lockd", "lockd.dev/lockd/cmd/lockctl", "lockd.dev/lockd/cmd/lockd-mqtt")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

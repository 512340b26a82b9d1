package main

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"lockd.dev/lockd/internal/testtool"
)

// TestBackgroundSimIsHeadless: `lockd --sim &` from an interactive shell
// has the terminal on stdin and stdout but is not in its foreground
// process group; it must run headless instead of drawing the panel, which
// the kernel answers by stopping it (SIGTTOU, STAT Tl).
func TestBackgroundSimIsHeadless(t *testing.T) {
	bash := testtool.Need(t, "bash", "bash")
	bin := filepath.Join(t.TempDir(), "lockd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	master, slave := testtool.OpenPTY(t)
	// set -m: job control, so the & job gets a process group of its own
	// in the background, as in a terminal.
	script := `set -m; "$1" --sim --state-dir "$2" --bus unix:path=/nonexistent/bus & echo "pid=$!"; wait`
	cmd := exec.Command(bash, "-c", script, "bash", bin, t.TempDir())
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(master)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var seen strings.Builder
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the terminal closed before lockd was ready:\n%s", &seen)
			}
			seen.WriteString(l + "\n")
			if pid, ok := strings.CutPrefix(strings.TrimSpace(l), "pid="); ok {
				n, _ := strconv.Atoi(pid)
				t.Cleanup(func() { _ = syscall.Kill(n, syscall.SIGTERM); _ = syscall.Kill(n, syscall.SIGCONT); _ = cmd.Wait() })
			}
			if strings.Contains(l, "lockd ready") {
				if strings.Contains(seen.String(), "\x1b[") {
					t.Errorf("lockd in the background drew on the terminal:\n%q", seen.String())
				}
				return
			}
		case <-timeout:
			t.Fatalf("lockd in the background never said it was ready (stopped by SIGTTOU?); the terminal shows:\n%s", &seen)
		}
	}
}

package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"lockd.dev/lockd/internal/testtool"
)

// recipe is a shell block of the README marked <!-- test: recipe[ KIND] -->.
type recipe struct {
	kind string // "make-run": runs in the background, as the first terminal
	line int
	text string
}

var anyMark = regexp.MustCompile("(?m)^<!-- test: recipe")

var recipeMark = regexp.MustCompile("(?m)^<!-- test: recipe( [a-z-]+)? -->\n```\n((?:.*\n)*?)```\n")

// readmeRecipes returns the marked blocks of README.md in order.
func readmeRecipes(t *testing.T, readme string) []recipe {
	t.Helper()
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	var rs []recipe
	for _, m := range recipeMark.FindAllSubmatchIndex(b, -1) {
		r := recipe{line: 1 + strings.Count(string(b[:m[0]]), "\n"), text: string(b[m[4]:m[5]])}
		if m[2] >= 0 {
			r.kind = strings.TrimSpace(string(b[m[2]:m[3]]))
		}
		rs = append(rs, r)
	}
	if len(anyMark.FindAllIndex(b, -1)) != len(rs) {
		t.Fatalf("%s: a <!-- test: recipe --> mark is not right above a ``` block", readme)
	}
	return rs
}

// recipeTimeout bounds one recipe or one start of make run (a cold build
// compiles SQLite).
const recipeTimeout = 5 * time.Minute

// TestREADMERecipes pastes the README's marked recipes into a shell, in
// order, in a copy of the repository (symbolic links, so that `make run`
// builds this tree): a make-run block starts `make run` in the background,
// as the first terminal, and waits until lockd is ready, after the one
// before it has ended (a simulated reboot ends lockd); every other block
// runs in the foreground, as the second terminal, and must succeed.
func TestREADMERecipes(t *testing.T) {
	dbustestNeed(t)
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	recipes := readmeRecipes(t, filepath.Join(repo, "README.md"))
	if len(recipes) == 0 || recipes[0].kind != "make-run" {
		t.Fatalf("README.md: want recipes starting with make run, got %d", len(recipes))
	}
	dir := linkTree(t, repo)

	var exited chan error // of the last make run
	for _, r := range recipes {
		if r.kind == "make-run" {
			if exited != nil {
				waitExit(t, r, exited)
			}
			exited = startMakeRun(t, dir, r)
			continue
		}
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", r.text)
		cmd.Dir, cmd.Env = dir, recipeEnv()
		// Killing bash leaves its children holding the output open;
		// WaitDelay ends the wait for them, so a stuck recipe fails the
		// test instead of hanging it.
		cmd.WaitDelay = 10 * time.Second
		timer := time.AfterFunc(recipeTimeout, func() { _ = cmd.Process.Kill() })
		out, err := cmd.CombinedOutput()
		timer.Stop()
		if err != nil {
			t.Fatalf("README.md:%d: recipe failed: %v\n%s\n--- its output:\n%s", r.line, err, r.text, out)
		}
		t.Logf("README.md:%d:\n%s%s", r.line, r.text, out)
	}
}

// dbustestNeed skips without dbus-daemon (fails under CI=true): the
// simulator's private bus is dbus-daemon.
func dbustestNeed(t *testing.T) {
	t.Helper()
	testtool.Need(t, "dbus-daemon", "dbus")
	testtool.Need(t, "make", "make")
}

// linkTree makes a directory that looks like the repository without its
// bin/ and .lockd-sim/, so the recipes build and run there.
func linkTree(t *testing.T, repo string) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(repo)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch e.Name() {
		case "bin", ".lockd-sim":
			continue
		}
		if err := os.Symlink(filepath.Join(repo, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// recipeEnv is the environment of a fresh terminal: the parent make's
// flags (under make test) stay out, and so does any bus of the test's.
func recipeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "MAKEFLAGS", "MFLAGS", "GNUMAKEFLAGS", "MAKELEVEL", "DBUS_SESSION_BUS_ADDRESS", "DBUS_SYSTEM_BUS_ADDRESS":
		default:
			env = append(env, kv)
		}
	}
	return env
}

// startMakeRun starts a make-run recipe in its own process group and
// waits until lockd says it is ready; it is stopped when the test ends.
func startMakeRun(t *testing.T, dir string, r recipe) chan error {
	t.Helper()
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", r.text)
	cmd.Dir, cmd.Env = dir, recipeEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	ready := make(chan bool, 1)
	exited := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		said := false
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if !said && strings.Contains(sc.Text(), "lockd ready") {
				said = true
				ready <- true
			}
		}
		if !said {
			ready <- false
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		<-exited
	})
	select {
	case ok := <-ready:
		if !ok {
			<-exited
			t.Fatalf("README.md:%d: %s ended before lockd was ready:\n%s", r.line, strings.TrimSpace(r.text), log.String())
		}
	case <-time.After(recipeTimeout):
		t.Fatalf("README.md:%d: lockd not ready within %v", r.line, recipeTimeout)
	}
	return exited
}

// waitExit waits for the make run before r to end by itself, as the
// README says a simulated reboot does.
func waitExit(t *testing.T, r recipe, exited chan error) {
	t.Helper()
	select {
	case err := <-exited:
		exited <- err // for the cleanup
	case <-time.After(recipeTimeout):
		t.Fatalf("README.md:%d: the make run before this one did not end (the README says the simulated reboot ends lockd)", r.line)
	}
}

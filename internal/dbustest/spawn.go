package dbustest

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Process is a long-running client (gdbus monitor, lockctl log --follow)
// whose output lines are collected as they come.
type Process struct {
	Cmd *exec.Cmd

	mu     sync.Mutex
	lines  []string
	stderr strings.Builder
	more   chan struct{} // a line came, or the process ended
	done   chan struct{}
}

// Spawn starts name as u with the same environment as Run. It is stopped
// (SIGTERM, then SIGKILL) when the test ends.
func (b *Bus) Spawn(t testing.TB, u User, name string, args ...string) *Process {
	t.Helper()
	argv := u.argv(t, Need(t, name), args)
	p := &Process{Cmd: exec.Command(argv[0], argv[1:]...), more: make(chan struct{}, 1), done: make(chan struct{})}
	p.Cmd.Env = cleanEnv()
	p.Cmd.Stderr = writerFunc(func(b []byte) (int, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.stderr.Write(b)
		return len(b), nil
	})
	out, err := p.Cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("dbustest: %v", err)
	}
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("dbustest: start %v: %v", argv, err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
			p.signal()
		}
		_ = p.Cmd.Wait()
		close(p.done)
		p.signal()
	}()
	t.Cleanup(func() {
		_ = p.Cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = p.Cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func (p *Process) signal() {
	select {
	case p.more <- struct{}{}:
	default:
	}
}

// Done is closed when the process has ended (Cmd.ProcessState is set).
func (p *Process) Done() <-chan struct{} { return p.done }

// Lines returns the stdout lines so far.
func (p *Process) Lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

// Stderr returns what the process wrote to stderr so far.
func (p *Process) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// WaitLine waits up to 10 s for a stdout line containing s and returns
// it; it fails the test if none comes or the process ends first.
func (p *Process) WaitLine(t testing.TB, s string) string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		for _, l := range p.Lines() {
			if strings.Contains(l, s) {
				return l
			}
		}
		select {
		case <-p.more:
		case <-p.done:
			for _, l := range p.Lines() {
				if strings.Contains(l, s) {
					return l
				}
			}
			t.Fatalf("%s ended without printing %q; stdout:\n%s\nstderr:\n%s", p.Cmd.Path, s, strings.Join(p.Lines(), "\n"), p.Stderr())
			return ""
		case <-deadline:
			t.Fatalf("%s printed no line containing %q within 10 s; stdout:\n%s\nstderr:\n%s", p.Cmd.Path, s, strings.Join(p.Lines(), "\n"), p.Stderr())
			return ""
		}
	}
}

// cleanEnv is the environment of client commands: no session bus, no
// pager, no colours, a fixed locale and no home.
func cleanEnv() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C.UTF-8", "HOME=/nonexistent",
		"SYSTEMD_PAGER=cat", "SYSTEMD_COLORS=0", "NO_COLOR=1"}
}

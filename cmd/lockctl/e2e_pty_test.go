package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"lockd.dev/lockd/internal/testtool"
)

// openPTY returns the master and the slave of a new pseudo-terminal.
func openPTY(t *testing.T) (master, slave *os.File) { return testtool.OpenPTY(t) }

// ptyOutput collects what the program writes to the terminal.
type ptyOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *ptyOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// typeAt waits for prompt and for echo to be off on
// the terminal, then types line. Echo is checked because a line typed
// before lockctl turns it off would be shown, as it would to a person
// typing ahead of the prompt.
func typeAt(t *testing.T, master, slave *os.File, out *ptyOutput, prompt, line string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatalf("tcgetattr: %v", err)
		}
		if strings.Contains(out.String(), prompt) && tio.Lflag&unix.ECHO == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no prompt %q with echo off within 15s; terminal shows %q", prompt, out.String())
		}
		time.Sleep(10 * time.Millisecond) // polling a terminal's state: there is nothing to wait on
	}
	if _, err := master.WriteString(line + "\r"); err != nil {
		t.Fatal(err)
	}
}

// TestE2EPromptOnTerminal: on a terminal, setup and code add ask twice
// without echo, and the codes never appear on the screen.
func TestE2EPromptOnTerminal(t *testing.T) {
	r := newRig(t)
	tests := []struct {
		args          []string
		prompt        string
		first, second string
		wantCode      int
		wantOut       string
	}{
		{[]string{"setup"}, "admin code: ", adminCode, adminCode, 0, "setup complete"},
		{[]string{"code", "add", "--label", "typed"}, "code: ", userCode, "7259", 1, "the codes do not match"},
		{[]string{"code", "add", "--label", "typed"}, "code: ", userCode, userCode, 0, "Added a user code in keypad slot"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			master, slave := openPTY(t)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := r.command(ctx, asRoot, tt.args...)
			cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			out := &ptyOutput{}
			go func() {
				b := make([]byte, 1024)
				for {
					n, err := master.Read(b)
					out.mu.Lock()
					out.buf.Write(b[:n])
					out.mu.Unlock()
					if err != nil {
						return
					}
				}
			}()
			typeAt(t, master, slave, out, "New "+tt.prompt, tt.first)
			typeAt(t, master, slave, out, "Repeat "+tt.prompt, tt.second)
			err := cmd.Wait()
			code := cmd.ProcessState.ExitCode()
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(out.String(), tt.wantOut) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond) // the last output may still be in the terminal
			}
			screen := out.String()
			if code != tt.wantCode || !strings.Contains(screen, tt.wantOut) {
				t.Errorf("exit %d (%v), want %d with %q; terminal:\n%s", code, err, tt.wantCode, tt.wantOut, screen)
			}
			for _, c := range []string{tt.first, tt.second} {
				if strings.Contains(screen, c) {
					t.Errorf("the code %s was echoed; terminal:\n%s", c, screen)
				}
			}
			tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
			if err != nil || tio.Lflag&unix.ECHO == 0 {
				t.Errorf("echo left off after lockctl exited (%v)", err)
			}
		})
	}
	if s := r.statusJSON(asRoot); !s.Provisioned {
		t.Error("not provisioned after setup on a terminal")
	}
}

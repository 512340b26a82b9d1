package dbustest

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// Result is what a client command did.
type Result struct {
	Args   []string
	Stdout string
	Stderr string
	Err    error // nil for exit status 0
}

// OK reports whether the command exited with status 0.
func (r Result) OK() bool { return r.Err == nil }

// Output is stdout and stderr, for messages.
func (r Result) Output() string { return strings.TrimSpace(r.Stdout + "\n" + r.Stderr) }

// Run runs a command as u with a clean environment (no session bus, no
// pager, C.UTF-8) and returns what it did; it never fails the test.
func (b *Bus) Run(t testing.TB, u User, name string, args ...string) Result {
	t.Helper()
	argv := u.argv(t, Need(t, name), args)
	ctx, cancel := withTimeout()
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = cleanEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		err = errors.Join(err, ctx.Err())
	}
	return Result{Args: argv, Stdout: out.String(), Stderr: errb.String(), Err: err}
}

// Busctl runs busctl --address=ADDR ARGS as u.
func (b *Bus) Busctl(t testing.TB, u User, args ...string) Result {
	t.Helper()
	return b.Run(t, u, "busctl", append([]string{"--address=" + b.Address}, args...)...)
}

// Gdbus runs gdbus SUBCOMMAND --address ADDR ARGS as u.
func (b *Bus) Gdbus(t testing.TB, u User, sub string, args ...string) Result {
	t.Helper()
	return b.Run(t, u, "gdbus", append([]string{sub, "--address", b.Address}, args...)...)
}

// DBusSend runs dbus-send --bus=ADDR ARGS as u.
func (b *Bus) DBusSend(t testing.TB, u User, args ...string) Result {
	t.Helper()
	return b.Run(t, u, "dbus-send", append([]string{"--bus=" + b.Address}, args...)...)
}

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// runCLI runs lockctl in-process with stdin and returns its exit status
// and output.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// TestUsageErrors checks that command-line mistakes exit 2 with the
// reason and a usage line, before any bus is needed (--bus points
// nowhere, so a test that reached the bus would exit 1).
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args      []string
		wantErr   string // in stderr
		wantUsage string // the usage line names this
	}{
		{[]string{"frob"}, `unknown command "frob"`, "lockctl help"},
		{[]string{"--frob", "status"}, "lockctl: unknown option --frob\n", "COMMAND"},
		{[]string{"status", "extra"}, `status: unexpected argument "extra"`, "lockctl [--bus system|session|sim|ADDRESS] [--timeout DURATION] [--json] status"},
		{[]string{"status", "--frob"}, "lockctl: status: unknown option --frob\n", "status"},
		{[]string{"lock", "--timeout", "0s"}, "lock: --timeout must be positive", "lock [--no-wait]"},
		{[]string{"--timeout", "-1s", "status"}, "--timeout must be positive", "COMMAND"},
		{[]string{"unlock", "--timeout", "soon"}, `unlock: invalid value "soon" for --timeout`, "unlock [--no-wait]"},
		{[]string{"setup", "1234"}, `setup: unexpected argument "1234"`, "setup"},
		{[]string{"code"}, "code: missing subcommand", "code add"},
		{[]string{"code", "frob"}, `code: unknown subcommand "frob"`, "code list"},
		{[]string{"code", "add", "1234"}, `code add: unexpected argument "1234"`, "code add [--label L]"},
		{[]string{"code", "add", "--from", "25:00"}, `--from "25:00": want HH:MM`, "code add"},
		{[]string{"code", "add", "--valid-until", "tomorrow"}, `--valid-until "tomorrow"`, "code add"},
		{[]string{"code", "add", "--uses", "0"}, "--uses must be at least 1", "code add"},
		{[]string{"code", "add", "--kind", "weekly"}, `code add: --kind "weekly": want one of user, scheduled, expiring, one-time, limited, duress`, "code add"},
		{[]string{"code", "add", "--weekdays", "mon,funday"}, `code add: --weekdays "mon,funday": "funday" is not a day: want days of mon tue wed thu fri sat sun, comma-separated, like mon,fri`, "code add"},
		{[]string{"code", "remove"}, "code remove: missing argument", "code remove SLOT"},
		{[]string{"code", "remove", "x"}, `code remove: SLOT must be a keypad slot as 'lockctl code list' shows it, not "x"`, "code remove SLOT"},
		{[]string{"code", "enable", "0"}, `SLOT must be a keypad slot`, "code enable SLOT"},
		{[]string{"code", "disable", "1", "2"}, `unexpected argument "2"`, "code disable SLOT"},
		{[]string{"log", "-n", "-1"}, "-n must be >= 0", "log [-n N]"},
		{[]string{"log", "--tail"}, "log: unknown option --tail\n", "log"},
		{[]string{"log", "-n"}, "log: this option needs a value: -n\n", "log"},
		{[]string{"update"}, "update: missing subcommand", "update install [--allow-downgrade] FILE"},
		{[]string{"update", "install"}, "update install: missing argument", "update install [--allow-downgrade] FILE"},
		{[]string{"update", "status", "now"}, `unexpected argument "now"`, "update status"},
		{[]string{"sim"}, "sim: missing subcommand", "sim press KEYS"},
		{[]string{"sim", "press"}, "sim press: missing argument", "sim press KEYS"},
		{[]string{"sim", "press", ""}, "KEYS is empty", "sim press KEYS"},
		{[]string{"sim", "door", "ajar"}, `want open or closed, not "ajar"`, "sim door open|closed"},
		{[]string{"sim", "jam", "yes"}, `want on or off, not "yes"`, "sim jam on|off"},
		{[]string{"--bus", "nowhere", "status"}, `--bus "nowhere": want system, session, sim or a D-Bus address`, "COMMAND"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			args := tt.args
			if !strings.Contains(strings.Join(args, " "), "--bus") {
				args = append([]string{"--bus", "unix:path=/nonexistent/lockctl-test"}, args...)
			}
			code, out, errOut := runCLI(t, "", args...)
			if code != 2 {
				t.Errorf("exit status %d, want 2; stderr:\n%s", code, errOut)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if !strings.HasPrefix(errOut, "lockctl: ") || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr does not start with lockctl: and contain %q:\n%s", tt.wantErr, errOut)
			}
			// Said once, with the options spelled as the help spells them.
			if n := strings.Count(errOut, "lockctl: "); n != 1 || strings.Contains(errOut, "flag provided") || strings.Contains(errOut, "for flag -") {
				t.Errorf("stderr says the mistake %d times or in the flag package's words:\n%s", n, errOut)
			}
			if !strings.Contains(errOut, "\nusage: lockctl ") || !strings.Contains(errOut, tt.wantUsage) {
				t.Errorf("stderr has no usage line naming %q:\n%s", tt.wantUsage, errOut)
			}
		})
	}
}

// TestHelp checks help goes to stdout with status 0 and lists every
// command.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		code, out, errOut := runCLI(t, "", args...)
		if code != 0 || errOut != "" {
			t.Errorf("%v: exit %d, stderr %q; want 0 and nothing", args, code, errOut)
		}
		for _, c := range commands {
			if !strings.Contains(out, "  "+c.path) {
				t.Errorf("%v: help does not list %q", args, c.path)
			}
		}
	}
	code, out, _ := runCLI(t, "", "code", "add", "--help")
	if code != 0 || !strings.HasPrefix(out, "usage: lockctl") {
		t.Errorf("code add --help: exit %d, stdout:\n%s", code, out)
	}
	// Every option with what it does, and every kind.
	for _, want := range []string{"  --label L            a name", "  --kind K             what the code is",
		"  --weekdays mon,tue   the days", "  --from HH:MM ", "  --until HH:MM ", "  --valid-from TIME    an expiring",
		"  --valid-until TIME   ... until", "  --uses N             how many times"} {
		if !strings.Contains(out, want) {
			t.Errorf("code add --help lacks %q:\n%s", want, out)
		}
	}
	for _, k := range addKinds {
		if !strings.Contains(out, "  "+k+" ") {
			t.Errorf("code add --help does not explain kind %s:\n%s", k, out)
		}
	}
}

// TestNoBus checks that an unreachable bus is a failure (1), not a usage
// error, and says so.
func TestNoBus(t *testing.T) {
	for _, args := range [][]string{{"status"}, {"lock"}, {"code", "list"}, {"log", "--follow"}, {"sim", "door", "open"}} {
		code, _, errOut := runCLI(t, "", append([]string{"--bus", "unix:path=/nonexistent/lockctl-test"}, args...)...)
		if code != 1 || !strings.Contains(errOut, "lockctl: cannot reach lockd") {
			t.Errorf("%v: exit %d, stderr %q; want 1 and \"cannot reach lockd\"", args, code, errOut)
		}
	}
}

// TestFlagsAnywhere checks the global options work after the command and
// between positional arguments.
func TestFlagsAnywhere(t *testing.T) {
	tests := []struct {
		args     []string
		wantJSON bool
		wantBus  string
		wantPos  []string
	}{
		{[]string{"--json", "3"}, true, "system", []string{"3"}},
		{[]string{"3", "--json"}, true, "system", []string{"3"}},
		{[]string{"3", "--bus", "session"}, false, "session", []string{"3"}},
		{[]string{"--", "-3"}, false, "system", []string{"-3"}},
	}
	for _, tt := range tests {
		a := &app{bus: "system", timeout: defaultTimeout}
		pos, err := a.parse("code remove", a.flagSet("code remove"), tt.args, 1, 1)
		if err != nil {
			t.Errorf("%v: %v", tt.args, err)
			continue
		}
		if a.json != tt.wantJSON || a.bus != tt.wantBus || strings.Join(pos, " ") != strings.Join(tt.wantPos, " ") {
			t.Errorf("%v: json %v bus %q pos %q; want %v %q %q", tt.args, a.json, a.bus, pos, tt.wantJSON, tt.wantBus, tt.wantPos)
		}
	}
}

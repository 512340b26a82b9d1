package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"lockd.dev/lockd/internal/flagtext"
)

// app is one invocation of lockctl: its global options, its standard
// streams and, once a command needs it, its connection to lockd.
type app struct {
	bus     string // system, session, sim or a D-Bus ADDRESS
	json    bool
	colour  bool          // stdout is a terminal that wants colour (painter)
	timeout time.Duration // for each answer of lockd, and for lock/unlock's bolt
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer

	cl *client // nil until connect
}

// commandHelp is one line of `lockctl help`; the usage line of a failed
// command is the entries whose path starts with it.
type commandHelp struct {
	path string // "code add"
	args string // flags and arguments after the path
	help string
}

// commands is every command in help order; the bash completion must know
// each (TestBashCompletionKnowsEveryCommand).
var commands = []commandHelp{
	{"status", "", "state, door, setup, lockout, keypad mode, health and recent events"},
	{"lock", "[--no-wait]", "lock, and wait (up to --timeout) until the bolt is locked"},
	{"unlock", "[--no-wait]", "unlock, and wait (up to --timeout) until the bolt is unlocked"},
	{"setup", "[--change]", "set the admin code of a new unit (prompted twice without echo, or read from stdin); " +
		"a unit already set up refuses unless --change"},
	{"code add", "[--label L] [--kind K] [--vacation] [--weekdays mon,tue] [--from HH:MM --until HH:MM] " +
		"[--valid-from TIME] [--valid-until TIME] [--uses N]",
		"add a code (prompted twice without echo, or read from stdin)"},
	{"code list", "", "list the codes by keypad slot (never their digits)"},
	{"code remove", "SLOT", "delete the code in keypad slot SLOT"},
	{"code enable", "SLOT", "enable the code in keypad slot SLOT"},
	{"code disable", "SLOT", "disable the code in keypad slot SLOT without deleting it"},
	{"code reset-lockout", "", "end a keypad lockout"},
	{"user add", "[--label L] [--kind K] [--two-factor] [--expire-after MIN] [code add's options]",
		"add a user, without credentials yet, in the next free keypad slot"},
	{"user list", "", "list the users by keypad slot with their credentials' types (never digits or card numbers)"},
	{"user remove", "SLOT", "delete the user in keypad slot SLOT with all their PINs and cards"},
	{"user enable", "SLOT", "enable the user in keypad slot SLOT"},
	{"user disable", "SLOT", "disable the user in keypad slot SLOT, PINs and cards alike"},
	{"user add-pin", "SLOT", "give the user in keypad slot SLOT another PIN (prompted twice, or read from stdin)"},
	{"card add", "[--bits 26|34] SLOT", "give the user in keypad slot SLOT a card: FACILITY:NUMBER prompted twice, " +
		"or read from stdin; or present it at the keypad: * ADMIN # 4 SLOT #"},
	{"card list", "", "list the cards by id with their users (never their numbers)"},
	{"card remove", "ID", "delete the card ID"},
	{"mode", "[normal|vacation|privacy|no-remote|passage]", "show the operating mode, or set it " +
		"(privacy needs the bolt locked; passage unlocks until the next lock)"},
	{"alarm ack", "NAME", "acknowledge an alarm (forced-open ajar tamper jammed wrong-entry-limit power); " +
		"one whose condition persists stays listed, silenced, until it ends"},
	{"log", "[-n N] [--follow]", "the audit log; --follow then streams new events until interrupted"},
	{"update install", "[--allow-downgrade] FILE|URL", "install an update bundle and show its progress; " +
		"--allow-downgrade accepts a version not newer than the running one"},
	{"update status", "", "slots, booted slot, pending update, reboot policy, last error and recent history"},
	{"update approve", "", "approve the pending update"},
	{"update reject", "", "reject the pending update"},
	{"sim press", "KEYS", "press keys on the simulated keypad (lockd --sim)"},
	{"sim door", "open|closed", "open or close the simulated door"},
	{"sim jam", "on|off", "jam or free the simulated bolt"},
	{"sim tamper", "on|off", "open (on) or shut (off) the simulated case"},
	{"sim mains", "on|off", "restore (on) or cut (off) the simulated mains"},
	{"sim card", "FACILITY NUMBER", "present a card at the simulated reader (26-bit; 34-bit when FACILITY > 255)"},
	{"help", "", "this text"},
}

const globalUsage = "lockctl [--bus system|session|sim|ADDRESS] [--timeout DURATION] [--json]"

// usageError is a command-line mistake: exit status 2 with a usage line.
type usageError struct {
	cmd string // the command path whose usage to show; "" for all
	msg string
}

func (e usageError) Error() string { return e.msg }

func usagef(cmd, format string, args ...any) error {
	return usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
}

// helpRequest asks for a command's help on stdout (exit status 0).
type helpRequest struct{ cmd string }

func (helpRequest) Error() string { return "help requested" }

// usage returns the usage lines of cmd and its subcommands; for "" or an
// unknown command, the general one.
func usage(cmd string) string {
	var b strings.Builder
	for _, c := range commands {
		if cmd == "" || (c.path != cmd && !strings.HasPrefix(c.path, cmd+" ")) {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("usage: ")
		} else {
			b.WriteString("\n       ")
		}
		fmt.Fprintf(&b, "%s %s", globalUsage, strings.TrimSpace(c.path+" "+c.args))
	}
	if b.Len() == 0 {
		return "usage: " + globalUsage + " COMMAND [ARGS]   ('lockctl help' lists the commands)"
	}
	return b.String()
}

// longHelp is `lockctl help`.
func longHelp() string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s COMMAND [ARGS]\n\n", globalUsage)
	b.WriteString("Controls lockd over D-Bus (io.lockd.Lock1).\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %s\n      %s\n", strings.TrimSpace(c.path+" "+c.args), c.help)
	}
	b.WriteString(`
Options (before or after the command):
  --bus system|session|sim|ADDRESS
                                 the bus lockd serves on (default system);
                                 sim: the simulator of 'make run' started in
                                 this directory (its address in .lockd-sim/bus)
  --timeout DURATION             how long to wait for each answer of lockd,
                                 and for the bolt after lock or unlock
                                 (default 25s, as busctl)
  --json                         machine-readable output (log: one object a
                                 line); errors still go to stderr as text

code add: --kind is one of user scheduled expiring one-time limited duress
and otherwise follows from the other options; --weekdays takes mon..sun,
comma-separated; TIME is RFC 3339 or a local YYYY-MM-DD[THH:MM].

A code is known by its keypad slot: the number the buzzer beeps when it
is added, that "2 SLOT #" deletes in programming mode, and that code list,
status and log show. The admin code has none. (--json also gives the id
the D-Bus methods take.)

Codes are never taken from the command line. On a terminal lockctl asks
twice without echo; otherwise it reads the code from the first line of
stdin and, if a second line follows, that line must repeat the code.

Exit status: 0 success, 1 refused or failed (the reason is printed),
2 usage error.
`)
	return b.String()
}

// run is lockctl without the process: it returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{bus: "system", timeout: defaultTimeout, stdin: stdin, stdout: stdout, stderr: stderr,
		colour: colourful(stdout, os.Getenv)}
	err := a.main(ctx, args)
	if a.cl != nil {
		a.cl.close()
	}
	return a.report(err)
}

// report prints err and returns the exit status for it.
func (a *app) report(err error) int {
	var u usageError
	var h helpRequest
	switch {
	case err == nil:
		return 0
	case errors.As(err, &h):
		if h.cmd == "" {
			fmt.Fprint(a.stdout, longHelp())
		} else {
			fmt.Fprint(a.stdout, helpOf(h.cmd))
		}
		return 0
	case errors.As(err, &u):
		fmt.Fprintf(a.stderr, "lockctl: %s\n%s\n", u.msg, usage(u.cmd))
		return 2
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(a.stderr, "lockctl: interrupted")
		return 1
	}
	fmt.Fprintf(a.stderr, "lockctl: %v\n", err)
	return 1
}

// main parses the global options and runs the command.
func (a *app) main(ctx context.Context, args []string) error {
	fs := a.flagSet("")
	if err := fs.Parse(args); err != nil {
		return flagError("", err)
	}
	if a.timeout <= 0 {
		return usagef("", "--timeout must be positive")
	}
	args = fs.Args()
	if len(args) == 0 {
		return a.cmdStatus(ctx, nil) // as hostnamectl
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "status":
		return a.cmdStatus(ctx, rest)
	case "lock", "unlock":
		return a.cmdMove(ctx, cmd, rest)
	case "setup":
		return a.cmdSetup(ctx, rest)
	case "code":
		return a.cmdCode(ctx, rest)
	case "user":
		return a.cmdUser(ctx, rest)
	case "card":
		return a.cmdCard(ctx, rest)
	case "mode":
		return a.cmdMode(ctx, rest)
	case "alarm":
		return a.cmdAlarm(ctx, rest)
	case "log":
		return a.cmdLog(ctx, rest)
	case "update":
		return a.cmdUpdate(ctx, rest)
	case "sim":
		return a.cmdSim(ctx, rest)
	case "help":
		return helpRequest{}
	}
	return usagef("", "unknown command %q", cmd)
}

// flagSet returns a flag set for cmd that also accepts the global options,
// so that `lockctl status --json` works as well as `lockctl --json status`.
func (a *app) flagSet(cmd string) *flag.FlagSet {
	fs := flag.NewFlagSet("lockctl "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // report prints errors and usage itself
	fs.StringVar(&a.bus, "bus", a.bus, "")
	fs.BoolVar(&a.json, "json", a.json, "")
	fs.DurationVar(&a.timeout, "timeout", a.timeout, "")
	return fs
}

// parse parses args for cmd, allowing flags between and after positional
// arguments ("code remove 3 --json"), and checks the positional count is
// within [min, max] (max < 0: no limit).
func (a *app) parse(cmd string, fs *flag.FlagSet, args []string, min, max int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, flagError(cmd, err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			pos = append(pos, rest...) // everything after "--" is positional
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	switch {
	case a.timeout <= 0:
		return nil, usagef(cmd, "%s: --timeout must be positive", cmd)
	case len(pos) < min:
		return nil, usagef(cmd, "%s: missing argument", cmd)
	case max >= 0 && len(pos) > max:
		return nil, usagef(cmd, "%s: unexpected argument %q", cmd, pos[max])
	}
	return pos, nil
}

func flagError(cmd string, err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return helpRequest{cmd: cmd}
	}
	if cmd == "" {
		return usagef(cmd, "%s", flagtext.Message(err))
	}
	return usagef(cmd, "%s: %s", cmd, flagtext.Message(err))
}

// subcommand splits args into a subcommand of group and the rest.
func subcommand(group string, args []string, known ...string) (string, []string, error) {
	if len(args) == 0 {
		return "", nil, usagef(group, "%s: missing subcommand (%s)", group, strings.Join(known, ", "))
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		return "", nil, helpRequest{cmd: group}
	}
	for _, k := range known {
		if args[0] == k {
			return k, args[1:], nil
		}
	}
	return "", nil, usagef(group, "%s: unknown subcommand %q (want %s)", group, args[0], strings.Join(known, ", "))
}

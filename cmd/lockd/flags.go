package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"lockd.dev/lockd/internal/config"
	"lockd.dev/lockd/internal/flagtext"
)

// synopsis is the usage of every form of lockd.
const synopsis = `usage: lockd [--config FILE] [--sim] [--state-dir DIR] [--bus system|session|sim|ADDRESS]
       lockd factory-init --state-dir DIR [--user USER] [--force]
       lockd bootenv [--fw-env-config FILE] print [NAME...] | set NAME=VALUE...
       lockd bundle keygen|create|inspect|verify ...
       lockd selftest [--config FILE] [--state-dir DIR] [--sim]
`

// parseFlags parses the daemon's command line.
func parseFlags(args []string, stdout, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("lockd", flag.ContinueOnError)
	fs.StringVar(&o.configPath, "config", config.DefaultPath, "the configuration `FILE`")
	fs.BoolVar(&o.sim, "sim", false, "run on the simulated board (no hardware, no root),\nas [board] sim = true in the configuration does")
	fs.StringVar(&o.stateDir, "state-dir", "/var/lib/lockd", "the state directory `DIR`: codes, device key, update state")
	fs.StringVar(&o.bus, "bus", "", "the D-Bus to serve on (`BUS`): system, session, an ADDRESS, or sim: a private\n"+
		"bus of lockd's own, its address in DIR/bus, for lockctl --bus sim\n(default: sim with --sim, else system)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), synopsis+"\nThe daemon's options:\n")
		printDefaults(fs)
		fmt.Fprint(fs.Output(), "\nlockd factory-init --help, lockd bootenv --help and lockd bundle --help describe the others.\n")
	}
	if err := parse(fs, args, stdout, stderr); err != nil {
		return o, err
	}
	fs.Visit(func(f *flag.Flag) { o.configSet = o.configSet || f.Name == "config" })
	return o, nil
}

// flag's own help is single-dash (-state-dir); lockd's usage lines and
// lockctl spell flags with two, so lockd's help does too.
func printDefaults(fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		line := "  " + flagtext.Option(f.Name)
		if name != "" {
			line += " " + name
		}
		fmt.Fprintf(fs.Output(), "%s\n    \t%s", line, indentUsage(usage))
		if f.DefValue != "" && f.DefValue != "false" {
			fmt.Fprintf(fs.Output(), " (default %q)", f.DefValue)
		}
		fmt.Fprintln(fs.Output())
	})
}

func indentUsage(s string) string { return strings.ReplaceAll(s, "\n", "\n    \t") }

// parse parses args. -h or --help prints the help on stdout and is a
// helpShown (exit status 0); a mistake is said once on stderr, with the
// usage, and is exit status 2.
func parse(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	fs.SetOutput(io.Discard) // flag would print the error and the help itself
	err := fs.Parse(args)
	switch {
	case err == flag.ErrHelp:
		fs.SetOutput(stdout)
		fs.Usage()
		return helpShown{}
	case err != nil:
		fmt.Fprintf(stderr, "%s: %s\n", fs.Name(), flagtext.Message(err))
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
	default:
		return nil
	}
	fmt.Fprintf(stderr, "Run '%s --help' for the options.\n", fs.Name())
	return exitStatus(2)
}

// helpShown ends lockd with status 0 after the help was printed.
type helpShown struct{}

func (helpShown) Error() string { return "help shown" }

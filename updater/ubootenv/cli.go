package ubootenv

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

const usage = `usage: lockd bootenv [--fw-env-config FILE] print [-n] [NAME...]
       lockd bootenv [--fw-env-config FILE] set NAME=VALUE...

print: all variables, or the NAMEs given, as fw_printenv prints them
       ("NAME=" for one not set; -n: values only).
set:   every NAME=VALUE in one atomic write; "NAME=" deletes NAME.
Exit status: 0 done, 1 failed (nothing written), 2 usage error.
`

// Main is `lockd bootenv`: the U-Boot environment through lockd's own code,
// for operators and tests. args follow "bootenv". It returns the exit
// status: 0 on success, 1 when the environment cannot be read or written
// (nothing is written then), 2 for a usage error. fw_printenv itself exits
// with 1 or a negative errno (e.g. 234 for a bad config); scripts should
// only test for zero.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lockd bootenv", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfgPath := fs.String("fw-env-config", DefaultConfigPath, "libubootenv configuration `FILE`")
	if err := fs.Parse(args); err != nil {
		return usageError(stdout, stderr, err)
	}
	if fs.NArg() == 0 {
		return usageError(stdout, stderr, errors.New("missing command"))
	}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	var run func(*Env) error
	switch cmd {
	case "print":
		pf := flag.NewFlagSet("lockd bootenv print", flag.ContinueOnError)
		pf.SetOutput(io.Discard)
		noHeader := pf.Bool("n", false, "print values only")
		if err := pf.Parse(rest); err != nil {
			return usageError(stdout, stderr, err)
		}
		run = func(e *Env) error {
			if *noHeader {
				return e.PrintValues(ctx, stdout, pf.Args()...)
			}
			return e.Print(ctx, stdout, pf.Args()...)
		}
	case "set":
		set, err := parsePairs(rest)
		if err != nil {
			return usageError(stdout, stderr, err)
		}
		run = func(e *Env) error { return e.Update(ctx, set) }
	default:
		return usageError(stdout, stderr, fmt.Errorf("unknown command %q", cmd))
	}
	cfg, err := ParseConfig(*cfgPath)
	if err == nil {
		var e *Env
		if e, err = Open(cfg); err == nil {
			err = run(e)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// parsePairs reads set's NAME=VALUE arguments.
func parsePairs(args []string) (map[string]string, error) {
	if len(args) == 0 {
		return nil, errors.New("set: no NAME=VALUE given")
	}
	set := make(map[string]string, len(args))
	for _, a := range args {
		name, value, ok := strings.Cut(a, "=")
		if !ok {
			return nil, fmt.Errorf("set: %q is not NAME=VALUE (NAME= deletes)", a)
		}
		if _, dup := set[name]; dup {
			return nil, fmt.Errorf("set: %q given twice", name)
		}
		set[name] = value
	}
	return set, nil
}

// usageError reports a command-line mistake; -h asks for the usage.
func usageError(stdout, stderr io.Writer, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		io.WriteString(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "lockd bootenv: %v\n%s", err, usage)
	return 2
}

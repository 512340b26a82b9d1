package bundle

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

const usageText = `usage:
  lockd bundle keygen -o KEYBASE
  lockd bundle create --key KEY --compatible C --version V [--security-version N]
                      [--compression zstd|none] [--description TEXT] IMAGE -o BUNDLE
  lockd bundle inspect BUNDLE
  lockd bundle verify --keys DIR BUNDLE
`

// usageError is a command line the tool cannot act on: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// Main runs `lockd bundle ARGS...` (args without "bundle") and returns the
// exit status: 0 success, 1 failure (the reason is on stderr), 2 usage.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return 2
	}
	cmds := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"keygen":  runKeygen,
		"create":  runCreate,
		"inspect": runInspect,
		"verify":  runVerify,
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usageText)
		return 0
	}
	run, ok := cmds[name]
	if !ok {
		fmt.Fprintf(stderr, "lockd bundle: unknown command %q\n%s", name, usageText)
		return 2
	}
	err := run(ctx, args[1:], stdout, stderr)
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "lockd bundle %s: %s\n%s", name, ue.msg, usageText)
		return 2
	}
	fmt.Fprintf(stderr, "lockd bundle %s: %v\n", name, err)
	return 1
}

// newFlagSet returns a flag set that reports to stderr and never exits.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("lockd bundle "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usageText) }
	return fs
}

// parseArgs parses flags that may come before, between or after the
// positional arguments (as in "create ... IMAGE -o BUNDLE") and wants
// exactly the positional arguments named.
func parseArgs(fs *flag.FlagSet, args []string, names ...string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()} // flag already printed it; keep the reason short
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos, args = append(pos, args[0]), args[1:]
	}
	switch {
	case len(pos) < len(names):
		return nil, usagef("missing %s", names[len(pos)])
	case len(pos) > len(names):
		return nil, usagef("unexpected argument %q", pos[len(names)])
	}
	return pos, nil
}

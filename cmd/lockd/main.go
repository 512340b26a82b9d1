// Command lockd is the daemon of a keypad smart lock: it reads the keypad,
// checks codes, drives the bolt, answers on D-Bus and updates the root file
// system. This file only parses flags and wires the subsystems together.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/lock"
	"lockd.dev/lockd/updater/bundle"
	"lockd.dev/lockd/updater/ubootenv"
)

// options are the daemon's flags (DESIGN.md "Commands").
type options struct {
	configPath string
	configSet  bool
	sim        bool
	stateDir   string
	bus        string

	// onReady, for tests, is called once the daemon is ready.
	onReady func(*sim.Board, *lock.Core)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	err := run(ctx, os.Args[1:])
	stop()
	var status exitStatus
	var usage usageError
	switch {
	case err == nil, errors.As(err, new(helpShown)):
	case errors.As(err, &status):
		os.Exit(int(status)) // the subcommand has said why
	case errors.As(err, &usage):
		fmt.Fprintln(os.Stderr, "lockd:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "lockd:", err)
		os.Exit(1)
	}
}

// usageError is a command-line mistake (exit status 2).
type usageError struct{ error }

// exitStatus is the status of a subcommand that printed its own errors.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// err is nil for status 0.
func (e exitStatus) err() error {
	if e == 0 {
		return nil
	}
	return e
}

func run(ctx context.Context, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "factory-init":
			return factoryInit(args[1:], os.Stdout, os.Stderr)
		case "bootenv":
			return exitStatus(ubootenv.Main(ctx, args[1:], os.Stdout, os.Stderr)).err()
		case "bundle":
			return exitStatus(bundle.Main(ctx, args[1:], os.Stdout, os.Stderr)).err()
		case "selftest":
			return selftestCmd(ctx, args[1:], os.Stdin, os.Stdout, os.Stderr)
		}
	}
	o, err := parseFlags(args, os.Stdout, os.Stderr)
	if err != nil {
		return err
	}
	return daemon(ctx, o)
}

package main

import (
	"flag"
	"fmt"
	"os"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/internal/statelock"
)

// factoryInit creates the unit's own secrets and prints the setup code
// once, for the label. Nothing else ever shows it again.
func factoryInit(args []string) error {
	fs := flag.NewFlagSet("lockd factory-init", flag.ContinueOnError)
	dir := fs.String("state-dir", "", "state `directory` of the unit (required)")
	force := fs.Bool("force", false, "replace existing secrets (all codes become unusable)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *dir == "" || fs.NArg() > 0 {
		return usageError{fmt.Errorf("usage: lockd factory-init --state-dir DIR [--force]")}
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return fmt.Errorf("factory-init: %w", err)
	}
	// Never replace the secrets under a running lockd.
	held, err := statelock.Acquire(*dir)
	if err != nil {
		return fmt.Errorf("factory-init: %w", err)
	}
	defer held.Release()
	code, err := codes.FactoryInit(*dir, *force)
	if err != nil {
		return err
	}
	fmt.Printf("Setup code for this unit's label (shown once):\n\n    %s\n\n", codes.FormatSetupLabel(code))
	return nil
}

package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/internal/statelock"
)

// factoryInit creates the unit's own secrets and prints the setup code
// once, for the label. Nothing else ever shows it again.
//
// The files must end up readable by the user lockd runs as, however
// factory-init was run: at the factory it runs as root, into a state
// directory that systemd-tmpfiles already gave to user lockd, and a key
// only root can read leaves the keypad closed. So the files go to --user,
// or by default to the owner of the state directory. (A state directory
// that root owns is no problem: lockd.service's StateDirectory= gives a
// directory whose owner is not User= to that user, files and all.)
func factoryInit(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lockd factory-init", flag.ContinueOnError)
	dir := fs.String("state-dir", "", "state `directory` of the unit (required)")
	user := fs.String("user", "", "give the new files to `USER` and its primary group\n(default: the owner of the state directory; needs root)")
	force := fs.Bool("force", false, "replace existing secrets (all codes become unusable)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: lockd factory-init --state-dir DIR [--user USER] [--force]")
		printDefaults(fs)
	}
	if err := parse(fs, args, stdout, stderr); err != nil {
		return err
	}
	if *dir == "" {
		return usageError{fmt.Errorf("factory-init: --state-dir is required (usage: lockd factory-init --state-dir DIR [--user USER] [--force])")}
	}
	owner, err := stateOwner(*dir, *user)
	if err != nil {
		return err
	}
	if err := makeStateDir(*dir, owner); err != nil {
		return err
	}
	// Never replace the secrets under a running lockd.
	held, err := statelock.Acquire(*dir)
	if err != nil {
		return fmt.Errorf("factory-init: %w", err)
	}
	defer held.Release()
	if err := chownTo(filepath.Join(*dir, statelock.FileName), owner); err != nil {
		return err
	}
	code, err := codes.FactoryInitAs(*dir, *force, owner.Owner)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Setup code for this unit's label (shown once):\n\n    %s\n\n", codes.FormatSetupLabel(code))
	if owner.Owner != codes.NoOwner {
		fmt.Fprintf(stdout, "%s and %s in %s belong to %s (mode 0600).\n", codes.DeviceKeyName, codes.SetupDigestName, *dir, owner.name)
	}
	return nil
}

// makeStateDir creates dir (0700) if it is missing and gives a directory it
// created to owner.
func makeStateDir(dir string, owner fileOwner) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("factory-init: %w", err)
	}
	return chownTo(dir, owner)
}

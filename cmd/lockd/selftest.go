package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"

	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/internal/board"
	"lockd.dev/lockd/internal/config"
	"lockd.dev/lockd/internal/statelock"
	"lockd.dev/lockd/selftest"
	"lockd.dev/lockd/selftest/siminstaller"
)

// selftestCmd is `lockd selftest`: the installer's wiring walk on this
// unit's pins (package selftest). It needs the pins lockd drives, so it
// runs only while no lockd holds the state directory. It is local by
// design: a walk through the daemon would leave lockd's drivers and the
// walk fighting over the same lines, and the installer stands at the lock
// anyway. With --sim it walks the simulated board with a scripted
// installer, to show what the walk does.
func selftestCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lockd selftest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", config.DefaultPath, "configuration `file` naming the pins")
	stateDir := fs.String("state-dir", "/var/lib/lockd", "lockd's state `directory`; the walk refuses while a lockd holds it")
	simulate := fs.Bool("sim", false, "walk the simulated board with a scripted installer (a demonstration)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("usage: lockd selftest [--config FILE] [--state-dir DIR] [--sim]")}
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var b selftest.Board
	var in selftest.Installer
	if *simulate {
		sb, cfg, err := board.NewSim(config.Default(), sim.BoardConfig{})
		if err != nil {
			return err
		}
		if b, err = selftest.FromConfig(cfg, sb.ByName, log); err != nil {
			return err
		}
		in = &echo{Installer: siminstaller.New(ctx, sb), out: stdout}
	} else {
		release, err := holdStateDir(*stateDir)
		if err != nil {
			return err
		}
		defer release()
		cfg, err := config.Load(*configPath)
		if err != nil {
			return fmt.Errorf("selftest: %w", err)
		}
		if _, err := host.Init(); err != nil {
			return fmt.Errorf("selftest: gpio: host init: %w", err)
		}
		if b, err = selftest.FromConfig(cfg, gpioreg.ByName, log); err != nil {
			return err
		}
		in = newTermInstaller(ctx, stdin, stdout)
		fmt.Fprintf(stdout, "lockd selftest: checking every pin of %s. Press Enter to skip a step you cannot do.\n", *configPath)
	}
	rep, err := selftest.Run(ctx, b, in, selftest.Options{})
	fmt.Fprintln(stdout)
	rep.WriteTo(stdout)
	switch {
	case err != nil:
		return err
	case !rep.OK():
		fmt.Fprintln(stderr, "lockd selftest: not every pin checked out; see the lines above that are not OK (docs/wiring.md)")
		return exitStatus(1)
	}
	fmt.Fprintln(stdout, "lockd selftest: every pin OK")
	return nil
}

// holdStateDir takes lockd's state-directory lock for the walk, so that
// lockd and the walk never drive the same pins: while lockd runs the walk
// is refused with lockd's PID. A directory that does not exist has no
// lockd to collide with. A lock file the walk creates goes to the
// directory's owner, so that lockd, running as that user, can lock it
// after the walk (root would otherwise leave it unopenable).
func holdStateDir(dir string) (release func(), err error) {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return func() {}, nil
	}
	path := filepath.Join(dir, statelock.FileName)
	_, existed := os.Stat(path)
	held, err := statelock.Acquire(dir)
	if err != nil {
		return nil, fmt.Errorf("selftest: %w", err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && errors.Is(existed, fs.ErrNotExist) {
		if err := os.Chown(path, int(st.Uid), int(st.Gid)); err != nil {
			held.Release()
			return nil, fmt.Errorf("selftest: %w", err)
		}
	}
	return func() { held.Release() }, nil
}

// echo prints each step a scripted installer is shown, so that
// `lockd selftest --sim` reads like a walk at a real lock.
type echo struct {
	*siminstaller.Installer
	out io.Writer
}

func (e *echo) Show(s selftest.Step) {
	fmt.Fprintln(e.out, "  "+s.Text)
	e.Installer.Show(s)
}

// Command gomodinc writes meta-lockd's lockd-go-mods.inc from go.mod and
// go.sum: the gomod:// SRC_URI lines the Yocto build fetches the Go modules
// with (do_fetch is the only task with network access) and the licence
// checksums of those modules; with -licenses, also the same modules'
// licences as a Markdown table for the documentation.
//
// Usage:
//
//	go run ./yocto/cmd/gomodinc [-C MODULE_DIR] [-o FILE] [-licenses FILE] [PACKAGE...]
//
// PACKAGE defaults to ./cmd/lockd ./cmd/lockctl ./cmd/lockd-mqtt, the recipe's GO_INSTALL.
// The modules must be in the Go module cache (`go mod download`); nothing
// is fetched from the network. `make yocto-gomod` runs it, and its test
// fails when the committed file no longer matches go.sum.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
)

func main() {
	dir := flag.String("C", ".", "the `DIR`ectory holding go.mod")
	out := flag.String("o", "", "write the include to `FILE` (atomically) instead of stdout")
	lics := flag.String("licenses", "", "also write the modules' licence table to `FILE` (atomically)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: gomodinc [-C DIR] [-o FILE] [-licenses FILE] [PACKAGE...]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	pkgs := flag.Args()
	if len(pkgs) == 0 {
		pkgs = DefaultPackages
	}
	gen, err := Generate(ctx, *dir, pkgs)
	if err == nil {
		if *out == "" {
			_, err = os.Stdout.Write(gen.Inc)
		} else {
			err = writeIfChanged(*out, gen.Inc)
		}
	}
	if err == nil && *lics != "" {
		err = writeIfChanged(*lics, gen.Licenses)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// writeIfChanged replaces path with data through a temporary file, and
// leaves it alone (timestamp included) when it already holds data.
func writeIfChanged(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".gomodinc-*")
	if err != nil {
		return fmt.Errorf("gomodinc: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("gomodinc: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("gomodinc: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("gomodinc: write %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("gomodinc: %w", err)
	}
	return nil
}

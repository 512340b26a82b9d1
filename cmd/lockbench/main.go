// Command lockbench measures what the issues ask figures for: key-to-bolt
// latency through the simulated scanner, idle CPU and memory of lockd
// --sim, exec to READY=1, lockd under D-Bus attack, and the stripped arm64
// binary size. `make bench`
// runs it; docs/BENCHMARKS.md records its output.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"
)

func main() {
	only := flag.String("only", "", "comma-separated subset: latency,ready,idle,dbus,attack,size,install,fleet")
	fleetN := flag.Int("fleet", 100, "simulated locks in the fleet run")
	idleFor := flag.Duration("idle", 60*time.Second, "how long to measure idle CPU")
	iters := flag.Int("n", 200, "key-to-bolt iterations")
	codesN := flag.Int("codes", 10_000, "stored codes during the latency run")
	installRuns := flag.Int("install-runs", 5, "interleaved install rounds (lockd and RAUC) per image size")
	denyAddr := flag.String("deny-client", "", "internal: run as the unprivileged D-Bus client against this bus")
	attackAddr := flag.String("attack-client", "", "internal: run as the attacker (group lockd) against this bus")
	attack := flag.String("attack", "", "internal: which attack -attack-client makes")
	flag.Parse()
	if *attackAddr != "" {
		if err := attackClient(*attackAddr, *attack); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if *denyAddr != "" {
		if err := denyClient(*denyAddr, *iters); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	want := func(name string) bool { return *only == "" || slices.Contains(strings.Split(*only, ","), name) }
	var failed bool
	run := func(name string, f func(context.Context) error) {
		if !want(name) {
			return
		}
		if err := f(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "lockbench: %s: %v\n", name, err)
			failed = true
		}
	}
	run("latency", func(ctx context.Context) error { return keyToBolt(ctx, *iters, *codesN) })
	bin, cleanup, err := buildLockd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "lockbench:", err)
		os.Exit(1)
	}
	defer cleanup()
	run("ready", func(ctx context.Context) error { return execToReady(ctx, bin, *codesN) })
	run("idle", func(ctx context.Context) error { return idle(ctx, bin, *idleFor) })
	run("dbus", func(ctx context.Context) error { return dbusBench(ctx, bin) })
	run("attack", func(ctx context.Context) error { return attackBench(ctx, bin) })
	run("size", binarySize)
	run("install", func(ctx context.Context) error { return installBench(ctx, bin, *installRuns, *iters) })
	run("fleet", func(ctx context.Context) error { return fleetBench(ctx, bin, *fleetN, *idleFor) })
	if failed {
		os.Exit(1)
	}
}

// percentile returns the p-th percentile (0..100) of sorted durations.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(float64(len(d)-1) * p / 100)
	return d[i]
}

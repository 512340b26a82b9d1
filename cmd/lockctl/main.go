// Command lockctl controls lockd, the keypad smart lock daemon, over D-Bus:
// it shows the lock's state, locks and unlocks, manages access codes, reads
// the audit log, drives updates and, against `lockd --sim`, the simulated
// board. It reaches lockd only through io.lockd.Lock1 on the bus; lockd
// decides what the caller may do from the caller's identity.
//
// Exit status: 0 on success, 1 when lockd or the bus refused (the reason is
// printed), 2 on a usage error.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

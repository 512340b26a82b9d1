package main

import (
	"context"
	"log/slog"

	"lockd.dev/lockd/internal/simbus"
)

// whichBus resolves --bus: "" is the simulator's private bus with --sim
// (no session or system bus needed, so `make run` warns about neither) and
// the system bus otherwise. For "sim" it starts that bus; stop ends it.
// A bus that cannot start is no reason to stop: the lock runs from its
// keypad and problem says why D-Bus is off. private says the address is
// that private bus, which only lockd's own user can reach.
func whichBus(ctx context.Context, bus string, sim bool, stateDir string, log *slog.Logger) (addr string, private bool, problem string, stop func()) {
	switch {
	case bus == "" && sim:
		bus = "sim"
	case bus == "":
		bus = "system"
	}
	if bus != "sim" {
		return bus, false, "", func() {}
	}
	b, err := simbus.Start(ctx, stateDir)
	if err != nil {
		log.Error("D-Bus unavailable; the simulator runs from its panel only", "err", err)
		return "", false, err.Error(), func() {}
	}
	log.Info("private bus for lockctl --bus sim", "address", b.Address)
	return b.Address, true, "", func() {
		if err := b.Close(); err != nil {
			log.Warn("private bus", "err", err)
		}
	}
}

package main

import (
	"context"
	"fmt"
	"io"

	"lockd.dev/lockd/updater"
)

// simReboot ends lockd as a reboot of the simulated unit: a clean exit,
// since starting lockd --sim again is the power-on. It says what boots
// next, so that the terminal the panel leaves behind tells the person what
// happened and what to do (the panel itself vanishes with lockd).
type simReboot struct {
	next  updater.Slot // the slot the next power-on boots
	trial bool         // next boots on trial
}

func (r simReboot) Error() string { return "simulated reboot" }

// notice is the line lockd leaves on its terminal when it exits for r.
func (r simReboot) notice() string {
	into := "the committed slot"
	if r.next != "" {
		into = "slot " + string(r.next)
	}
	if r.trial {
		into += " on trial"
	}
	return fmt.Sprintf("lockd: the simulated unit reboots into %s. Start it again to power it on: make run (or the same lockd --sim command).\n", into)
}

// nextBoot reads what the simulated boot chain boots next.
func nextBoot(ctx context.Context, bl updater.Bootloader) simReboot {
	bs, err := bl.State(ctx)
	if err != nil {
		return simReboot{}
	}
	if bs.Trial != "" {
		return simReboot{next: bs.Trial, trial: true}
	}
	return simReboot{next: bs.Committed}
}

// sayRebooted writes r's notice to w when err is a simulated reboot and
// returns what lockd exits with: nil for a reboot, else err.
func sayRebooted(w io.Writer, err error) error {
	r, ok := err.(simReboot)
	if !ok {
		return err
	}
	fmt.Fprint(w, r.notice())
	return nil
}

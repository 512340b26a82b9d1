package lock_test

import (
	"context"
	"testing"
	"time"

	pgpio "periph.io/x/conn/v3/gpio"

	"lockd.dev/lockd/lock"
	"lockd.dev/lockd/lock/locktest"
)

// TestWiegandKeypadOpens: key bursts sent as real D0/D1 pulse trains,
// decoded by the Wiegand driver, open the lock; a card is refused by a
// store that knows no cards (wiegand_card_test.go: one that does).
func TestWiegandKeypadOpens(t *testing.T) {
	board, kp, strike := wiegandStrike(t)
	core, err := lock.New(lock.Config{Keypad: kp, Bolt: strike, Codes: locktest.NewCodes("135790", "2580"),
		Pulse: 5 * time.Second, Log: discard()})
	if err != nil {
		t.Fatal(err)
	}
	events, _ := core.Subscribe(64)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- core.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-core.Ready()
	// The decoder configures its lines when its Run starts; pulses sent
	// before that are not seen, as on hardware.
	for board.Wiegand.D0().Pull() != pgpio.PullUp || board.Wiegand.D1().Pull() != pgpio.PullUp {
		time.Sleep(time.Millisecond)
	}

	if err := board.Wiegand.Type(ctx, "2580#", wiegandKeySpacing); err != nil {
		t.Fatal(err)
	}
	locktest.WaitEvent(t, events, lock.EventUnlocked)
	if !board.Strike.Unlocked() {
		t.Error("strike not energised after a granted code")
	}
	if err := board.Wiegand.SendCard(ctx, 26, 12, 3456); err != nil {
		t.Fatal(err)
	}
	if e := locktest.WaitEvent(t, events, lock.EventDenied); e.Source != lock.SourceCard {
		t.Errorf("card refusal from %q", e.Source)
	}
}

package lock_test

import (
	"context"
	"testing"
	"time"

	pgpio "periph.io/x/conn/v3/gpio"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/internal/codeslink"
	"lockd.dev/lockd/lock"
	"lockd.dev/lockd/lock/locktest"
)

const (
	wiegandGap        = 150 * time.Millisecond
	wiegandKeySpacing = 3 * wiegandGap
)

// wiegandStrike is a simulated board with a Wiegand reader and a strike,
// and the real drivers of both.
func wiegandStrike(t *testing.T) (*sim.Board, *gpio.Wiegand, *gpio.Strike) {
	t.Helper()
	board, err := sim.NewBoard(sim.BoardConfig{Wiegand: true, Strike: true})
	if err != nil {
		t.Fatal(err)
	}
	// The simulated reader sends a bit every 2 ms from a goroutine; a gap
	// of wiegandGap ends a frame only when the sender is done, not when a
	// loaded test machine (make test runs -race and the arm64 tests
	// side by side) parks that goroutine for a few dozen ms mid-frame.
	// Keys are typed wiegandKeySpacing apart, well past the gap.
	kp, err := gpio.NewWiegand(board.Wiegand.D0(), board.Wiegand.D1(), gpio.WiegandOptions{Gap: wiegandGap, Poll: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	strike, err := gpio.NewStrike(gpio.StrikeConfig{Pin: board.Strike.Pin()})
	if err != nil {
		t.Fatal(err)
	}
	return board, kp, strike
}

// TestWiegandCardOpens: a card sent as real D0/D1 pulses by the board's
// transmitter, decoded by the Wiegand driver and checked by the SQLite
// store, opens the strike; a frame with a bad parity bit is refused as a
// bad frame and counts nothing; a 34-bit card not enrolled is a wrong
// entry.
func TestWiegandCardOpens(t *testing.T) {
	board, kp, strike := wiegandStrike(t)
	dir := t.TempDir()
	if _, err := codes.FactoryInit(dir, false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	store, err := codes.Open(ctx, codes.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.SetAdmin(ctx, "864209", time.Now()); err != nil {
		t.Fatal(err)
	}
	u, err := store.CreateUser(ctx, "card", codes.AddOptions{Kind: codes.KindUser})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.AddCard(ctx, u.ID, codes.Card{Bits: 26, Facility: 12, Number: 3456}, time.Now()); err != nil {
		t.Fatal(err)
	}
	core, err := lock.New(lock.Config{Keypad: kp, Bolt: strike, Codes: codeslink.Codes{Store: store},
		Pulse: 5 * time.Second, Log: discard(), Sink: codeslink.AuditSink(ctx, store, nil)})
	if err != nil {
		t.Fatal(err)
	}
	events, _ := core.Subscribe(64)
	done := make(chan error, 1)
	go func() { done <- core.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-core.Ready()
	for board.Wiegand.D0().Pull() != pgpio.PullUp || board.Wiegand.D1().Pull() != pgpio.PullUp {
		time.Sleep(time.Millisecond)
	}

	bits, _ := sim.CardBits(26, 12, 3456)
	bits[12] = !bits[12] // the first half's parity no longer holds
	if err := board.Wiegand.SendBits(ctx, bits); err != nil {
		t.Fatal(err)
	}
	if e := locktest.WaitEvent(t, events, lock.EventRefused); e.Source != lock.SourceCard || e.Reason != lock.ReasonBadFrame {
		t.Errorf("malformed frame: %+v", e)
	}
	if st, _ := store.Status(ctx, time.Now()); st.Failures != 0 {
		t.Errorf("a malformed frame counted: %d failures", st.Failures)
	}
	if board.Strike.Unlocked() {
		t.Fatal("strike energised by a malformed frame")
	}
	if err := board.Wiegand.SendCard(ctx, 34, 12, 3456); err != nil { // the same numbers, another format
		t.Fatal(err)
	}
	if e := locktest.WaitEvent(t, events, lock.EventDenied); e.Source != lock.SourceCard || e.Reason != lock.ReasonUnknown {
		t.Errorf("34-bit card: %+v", e)
	}
	if err := board.Wiegand.SendCard(ctx, 26, 12, 3456); err != nil {
		t.Fatal(err)
	}
	if e := locktest.WaitEvent(t, events, lock.EventGranted); e.Source != lock.SourceCard || e.Slot != u.Slot {
		t.Errorf("granted %+v", e)
	}
	locktest.WaitEvent(t, events, lock.EventUnlocked)
	if !board.Strike.Unlocked() {
		t.Error("strike not energised after a granted card")
	}
	if st, _ := store.Status(ctx, time.Now()); st.Failures != 0 {
		t.Errorf("%d failures after the granted card, want 0", st.Failures)
	}
	log, _ := store.Log(ctx, 0, 100)
	for _, e := range log {
		if e.Kind == lock.EventGranted && e.Details[codes.DetailCredential] != "card" {
			t.Errorf("audited grant %+v does not say card", e)
		}
	}
}

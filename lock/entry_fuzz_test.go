package lock_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/internal/clock/clocktest"
	"lockd.dev/lockd/lock"
	"lockd.dev/lockd/lock/locktest"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// stepCore builds a core driven synchronously with StepKeys.
func stepCore(t testing.TB, codes *locktest.Codes) (*lock.Core, *locktest.Bolt, *clocktest.Fake) {
	t.Helper()
	bolt := &locktest.Bolt{Pos: gpio.PosLocked}
	clk := clocktest.NewFake(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	c, err := lock.New(lock.Config{Keypad: nopKeypad{}, Bolt: bolt, Codes: codes, Clock: clk, Log: discard()})
	if err != nil {
		t.Fatal(err)
	}
	c.Prime(context.Background())
	return c, bolt, clk
}

type nopKeypad struct{}

func (nopKeypad) Run(ctx context.Context, _ chan<- gpio.KeyEvent) error { <-ctx.Done(); return nil }

var fuzzKeys = []byte("0123456789*#A")

// typeFuzz types in: bytes that are key characters are those keys, others
// map onto keys; bytes >= 250 are pauses long enough for the entry and
// programming timeouts.
func typeFuzz(c *lock.Core, clk *clocktest.Fake, in []byte) {
	for _, b := range in {
		if b >= 250 {
			clk.Advance(time.Duration(b-249) * 3 * time.Second)
			c.StepTimers()
			continue
		}
		k := b
		if !bytes.ContainsRune(fuzzKeys, rune(b)) {
			k = fuzzKeys[int(b)%len(fuzzKeys)]
		}
		c.StepKeys(string(k))
	}
}

// granted counts the entries that opened, and says whether the admin
// code was accepted.
func granted(codes *locktest.Codes) (grants int, admin bool) {
	for _, v := range codes.Verified {
		switch {
		case v.Verdict.OK && v.Purpose == lock.PurposeOpen:
			grants++
		case v.Verdict.OK && v.Purpose == lock.PurposeAdmin:
			admin = true
		}
	}
	return grants, admin
}

// FuzzKeypadSequence types arbitrary key sequences (bytes that are key
// characters are those keys, others map onto keys; bytes >= 250 are pauses
// long enough for the entry and programming timeouts) and checks that the bolt is never
// unlocked without a granted entry, and that codes change only after the
// admin code was accepted.
func FuzzKeypadSequence(f *testing.F) {
	for _, s := range []string{"2580#", "*135790#12468#12468#", "*135790#3975310#975310#", "1111#1111#1111#1111#1111#2580#", "*#*#", "##"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 400 {
			return
		}
		codes := locktest.NewCodes("135790", "2580")
		c, bolt, clk := stepCore(t, codes)
		typeFuzz(c, clk, in)
		grants, admin := granted(codes)
		if _, unlocks := bolt.Counts(); unlocks > grants {
			t.Fatalf("bolt unlocked %d times with %d granted entries", unlocks, grants)
		}
		if !admin && (codes.User(1) != "2580" || codes.AdminCode() != "135790" || codes.User(2) != "") {
			t.Fatalf("codes changed without the admin code")
		}
	})
}

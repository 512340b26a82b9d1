package codes

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"lockd.dev/lockd/internal/clock/clocktest"
)

// t0 is a Monday, 10:00 UTC; the tests' zone is UTC+2 (so 12:00 local).
var (
	t0    = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	zone  = time.FixedZone("T", 2*3600)
	built = t0.Add(-30 * 24 * time.Hour)
)

const adminCode = "135792"

// env is a factory-initialised state dir and a fake clock.
type env struct {
	t     testing.TB
	dir   string
	setup string
	clk   *clocktest.Fake
	opts  Options
}

func newEnv(t testing.TB) *env {
	t.Helper()
	dir := t.TempDir()
	setup, err := FactoryInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: dir, setup: setup, clk: clocktest.NewFake(t0)}
	e.opts = Options{Dir: dir, Now: e.clk.Now, Location: zone, BuildTime: built}
	return e
}

func (e *env) open() *Store {
	e.t.Helper()
	s, err := Open(context.Background(), e.opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { s.Close() })
	return s
}

func (e *env) openWith(migs []migration) (*Store, error) {
	s, err := open(context.Background(), e.opts, migs)
	if err == nil {
		e.t.Cleanup(func() { s.Close() })
	}
	return s, err
}

// provisioned opens the store and sets the admin code.
func (e *env) provisioned() *Store {
	e.t.Helper()
	s := e.open()
	if err := s.SetAdmin(context.Background(), adminCode, e.clk.Now()); err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) add(s *Store, code string, o AddOptions) Info {
	e.t.Helper()
	i, err := s.Add(context.Background(), "test", code, o)
	if err != nil {
		e.t.Fatalf("Add %v: %v", o.Kind, err)
	}
	return i
}

func verify(t testing.TB, s *Store, p Purpose, code string, now time.Time) Verdict {
	t.Helper()
	v, err := s.Verify(context.Background(), p, code, now)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return v
}

func hasNotice(s *Store, kind string) *Notice {
	for _, n := range s.Notices() {
		if n.Kind == kind {
			return &n
		}
	}
	return nil
}

// noDigits fails if err's text contains code.
func noDigits(t testing.TB, err error, code string) {
	t.Helper()
	if err != nil && len(code) >= 4 && strings.Contains(err.Error(), code) {
		t.Errorf("error %q contains the code", err)
	}
}

func isErr(err, target error) bool { return errors.Is(err, target) }

package panel

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/lock"
)

// fakeCore is a lock core that reports a fixed status and records commands.
type fakeCore struct {
	mu      sync.Mutex
	st      lock.Status
	err     error // returned by Lock and Unlock
	locks   []string
	unlocks []string
}

var _ Core = (*fakeCore)(nil)

func (c *fakeCore) Status() lock.Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st
}

func (c *fakeCore) Lock(_ context.Context, source string, _ int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.locks = append(c.locks, source)
	return c.err
}

func (c *fakeCore) Unlock(_ context.Context, source string, _ int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.unlocks = append(c.unlocks, source)
	return c.err
}

// harness is a model on a real simulated board, its actuator running, with
// what the actuator sends queued on msgs instead of a bubbletea program.
type harness struct {
	m     *model
	board *sim.Board
	core  *fakeCore
	msgs  chan tea.Msg
	quits int
}

func newHarness(t *testing.T, bc sim.BoardConfig, st lock.Status) *harness {
	t.Helper()
	board, err := sim.NewBoard(bc)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{board: board, core: &fakeCore{st: st}, msgs: make(chan tea.Msg, 256)}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	h.m, err = newModel(ctx, Config{Board: board, Core: h.core, SetupCode: "48151623", Quit: func() { h.quits++ }})
	if err != nil {
		t.Fatal(err)
	}
	wg.Go(func() { h.m.act.run(ctx, func(m tea.Msg) { h.msgs <- m }) })
	h.m.Init()
	return h
}

// typeKeys sends s as typed runes, as bubbletea delivers quick typing.
func (h *harness) typeKeys(s string) tea.Cmd {
	_, cmd := h.m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)})
	return cmd
}

// pump feeds the actuator's messages to the model until done says so.
func (h *harness) pump(t *testing.T, done func(tea.Msg) bool) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case msg := <-h.msgs:
			h.m.Update(msg)
			if done(msg) {
				return
			}
		case <-deadline:
			t.Fatal("timed out waiting for the actuator")
		}
	}
}

func isNotice(msg tea.Msg) bool { _, ok := msg.(noticeMsg); return ok }

func TestTypedKeysReachTheScanner(t *testing.T) {
	h := newHarness(t, sim.BoardConfig{}, lock.Status{State: lock.StateLocked, Provisioned: true})
	kp, err := gpio.NewMatrix(h.board.Matrix.Rows(), h.board.Matrix.Cols(),
		gpio.MatrixOptions{Debounce: 5 * time.Millisecond, Poll: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	keys := make(chan gpio.KeyEvent, 64)
	done := make(chan error, 1)
	go func() { done <- kp.Run(ctx, keys) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("scanner: %v", err)
		}
	}()

	const typed = "25*0#"
	h.typeKeys(typed)
	sawLit := false
	released := 0
	h.pump(t, func(msg tea.Msg) bool {
		if tm, ok := msg.(tapMsg); ok {
			if tm.err != nil {
				t.Errorf("tap %c: %v", tm.key, tm.err)
			}
			if tm.down && h.m.lit(tm.key) {
				sawLit = true
			}
			if !tm.down {
				released++
			}
		}
		return released == len(typed)
	})
	if !sawLit {
		t.Error("no key was highlighted while the finger held it")
	}
	if h.m.finger != 0 || h.m.queued != 0 {
		t.Errorf("after typing: finger %q, %d queued; want none", h.m.finger, h.m.queued)
	}
	var got []byte
	for len(got) < len(typed) {
		select {
		case e := <-keys:
			if e.Down {
				got = append(got, byte(e.Key))
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("scanner saw %q, want %q", got, typed)
		}
	}
	if string(got) != typed {
		t.Errorf("scanner saw %q, want %q", got, typed)
	}
}

func TestKeyDownOnBoardIsHighlighted(t *testing.T) {
	h := newHarness(t, sim.BoardConfig{}, lock.Status{Provisioned: true})
	if err := h.board.Matrix.Press('5'); err != nil {
		t.Fatal(err)
	}
	h.m.Update(refreshMsg{})
	if !h.m.lit('5') || h.m.lit('4') {
		t.Errorf("lit 5=%v 4=%v with 5 held, want true false", h.m.lit('5'), h.m.lit('4'))
	}
	if err := h.board.Matrix.Release('5'); err != nil {
		t.Fatal(err)
	}
	h.m.Update(refreshMsg{})
	if h.m.lit('5') {
		t.Error("5 still lit after release")
	}
}

func TestDoorAndJamKeys(t *testing.T) {
	h := newHarness(t, sim.BoardConfig{}, lock.Status{Provisioned: true})
	h.typeKeys("o")
	h.pump(t, isNotice)
	if !h.board.Door.IsOpen() {
		t.Fatal("o did not open the door")
	}
	h.typeKeys("j")
	h.pump(t, isNotice)
	if !h.board.Motor.Jammed() {
		t.Fatal("j did not jam the motor")
	}
	h.typeKeys("oj")
	h.pump(t, isNotice)
	h.pump(t, isNotice)
	if h.board.Door.IsOpen() || h.board.Motor.Jammed() {
		t.Errorf("second o, j: door open %v, jammed %v; want both false", h.board.Door.IsOpen(), h.board.Motor.Jammed())
	}
	h.typeKeys("t")
	h.pump(t, isNotice)
	if h.board.Tamper.Closed() {
		t.Fatal("t did not open the case")
	}
	h.typeKeys("t")
	h.pump(t, isNotice)
	if !h.board.Tamper.Closed() {
		t.Error("second t did not shut the case")
	}
}

func TestJamWithStrike(t *testing.T) {
	h := newHarness(t, sim.BoardConfig{Strike: true}, lock.Status{Provisioned: true})
	h.typeKeys("j")
	h.pump(t, isNotice)
	if !h.m.notice.bad {
		t.Errorf("j with a strike: notice %+v, want a complaint", h.m.notice)
	}
}

func TestLockUnlockAsked(t *testing.T) {
	h := newHarness(t, sim.BoardConfig{}, lock.Status{Provisioned: true})
	for _, k := range []string{"l", "u"} {
		cmd := h.m.onKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)})
		if cmd == nil {
			t.Fatalf("%s: no command", k)
		}
		h.m.Update(cmd())
	}
	if len(h.core.locks) != 1 || len(h.core.unlocks) != 1 || h.core.locks[0] != lock.SourceDBus {
		t.Errorf("core saw locks %v unlocks %v, want one each from %q", h.core.locks, h.core.unlocks, lock.SourceDBus)
	}
	h.core.err = lock.ErrDoorOpen
	h.m.Update(h.m.onKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("l")})())
	if h.m.notice.bad || h.m.notice.text != lock.ErrDoorOpen.Error() {
		t.Errorf("lock with door open: notice %+v", h.m.notice)
	}
	h.core.err = errors.New("lock: core is not running")
	h.m.Update(h.m.onKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("u")})())
	if !h.m.notice.bad {
		t.Errorf("failed unlock: notice %+v, want bad", h.m.notice)
	}
}

func TestQuit(t *testing.T) {
	for _, k := range []tea.KeyMsg{
		{Type: tea.KeyRunes, Runes: []rune("q")},
		{Type: tea.KeyCtrlC},
	} {
		h := newHarness(t, sim.BoardConfig{}, lock.Status{Provisioned: true})
		_, cmd := h.m.Update(k)
		if cmd == nil {
			t.Fatalf("%v: no command", k)
		}
		if _, ok := cmd().(tea.QuitMsg); !ok || h.quits != 1 {
			t.Errorf("%v: quit called %d times, command not tea.Quit", k, h.quits)
		}
	}
}

func TestKeysNotOnThisKeypad(t *testing.T) {
	h := newHarness(t, sim.BoardConfig{}, lock.Status{Provisioned: true})
	h.typeKeys("a")
	if h.m.queued != 0 || !h.m.notice.bad {
		t.Errorf("a on 3x4: %d queued, notice %+v; want none queued and a complaint", h.m.queued, h.m.notice)
	}
	h = newHarness(t, sim.BoardConfig{Layout: sim.Layout4x4}, lock.Status{Provisioned: true})
	h.typeKeys("d")
	h.pump(t, func(msg tea.Msg) bool { tm, ok := msg.(tapMsg); return ok && !tm.down })
	if h.m.notice.bad {
		t.Errorf("d on 4x4: %+v", h.m.notice)
	}
}

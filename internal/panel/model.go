package panel

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/lock"
)

// Redraw rates without a change hook to drive them: fast for the bolt's
// travel bar and held keys, slow for the lockout countdown and for keypad
// mode changes the core makes without an event.
const (
	fastTick = 100 * time.Millisecond
	slowTick = time.Second
)

// maxEvents is how many of the latest events the panel shows.
const maxEvents = 10

// commandTimeout bounds a lock or unlock request to the core.
const commandTimeout = 5 * time.Second

// Messages the model handles besides bubbletea's own.
type (
	refreshMsg struct{}   // the board changed: take a new snapshot
	eventMsg   lock.Event // the core emitted an event
	tickMsg    struct{ gen int }
	tapMsg     struct { // the simulated finger pressed (down) or released key
		key  byte
		down bool
		err  error
	}
	noticeMsg struct { // the outcome of a user action, shown on one line
		text string
		bad  bool
	}
)

// snapshot is everything the view shows of the board and the core, read at
// one moment so that View is a pure function of the model.
type snapshot struct {
	now    time.Time
	status lock.Status

	motor    bool // the board has a motor (else a strike)
	pos      float64
	moving   int
	jammed   bool // the simulated obstacle is in place
	strikeOn bool

	doorOpen           bool
	green, red, buzzer bool
	keysDown           string
}

func takeSnapshot(b *sim.Board, c Core) snapshot {
	s := snapshot{now: time.Now(), status: c.Status()}
	if b.Motor != nil {
		s.motor = true
		s.pos, s.moving, s.jammed = b.Motor.Position(), b.Motor.Moving(), b.Motor.Jammed()
	}
	if b.Strike != nil {
		s.strikeOn = b.Strike.Unlocked()
	}
	if b.Matrix != nil {
		s.keysDown = b.Matrix.Down()
	}
	s.doorOpen = b.Door != nil && b.Door.IsOpen()
	s.green, s.red, s.buzzer = on(b.Green), on(b.Red), on(b.Buzzer)
	return s
}

func on(o *sim.Output) bool { return o != nil && o.On() }

// model is the panel's bubbletea model.
type model struct {
	ctx       context.Context // the panel's life; bounds core requests
	board     *sim.Board
	core      Core
	setupCode string
	quit      func()
	act       *actuator
	layout    [][]byte
	uid       int     // who asks for lock and unlock, as a D-Bus caller would be
	ui        *styles // how it looks on its output

	snap     snapshot
	finger   byte // key the simulated finger holds, 0 if none
	queued   int  // taps queued or under way
	events   []lock.Event
	notice   noticeMsg
	width    int // terminal columns, 0 until known
	tickGen  int
	tickFast bool
	quitting bool
}

func newModel(ctx context.Context, cfg Config) (*model, error) {
	layout, err := keypadLayout(cfg.Board, cfg.Layout)
	if err != nil {
		return nil, err
	}
	out := cfg.Output
	if out == nil {
		out = io.Discard // tests: no terminal, no colour
	}
	m := &model{
		ctx: ctx, board: cfg.Board, core: cfg.Core, setupCode: cfg.SetupCode,
		quit: cfg.Quit, act: newActuator(), layout: layout, uid: os.Getuid(),
		ui: newStyles(lipgloss.NewRenderer(out)),
	}
	m.snap = takeSnapshot(m.board, m.core)
	return m, nil
}

// keypadLayout returns the keys to draw, rows top to bottom.
func keypadLayout(b *sim.Board, layout string) ([][]byte, error) {
	if layout == "" {
		layout = sim.Layout3x4
		if b.Matrix != nil && len(b.Matrix.ColPins()) == 4 {
			layout = sim.Layout4x4
		}
	}
	var rows [][]byte
	for _, r := range strings.Split(layout, "/") {
		if r == "" {
			return nil, fmt.Errorf("panel: keypad layout %q has an empty row", layout)
		}
		rows = append(rows, []byte(r))
	}
	if b.Matrix != nil && (len(rows) != len(b.Matrix.RowPins()) || len(rows[0]) != len(b.Matrix.ColPins())) {
		return nil, fmt.Errorf("panel: keypad layout %q does not fit a %dx%d keypad",
			layout, len(b.Matrix.RowPins()), len(b.Matrix.ColPins()))
	}
	return rows, nil
}

// hasKey reports whether the drawn keypad has key.
func (m *model) hasKey(key byte) bool {
	for _, r := range m.layout {
		if strings.IndexByte(string(r), key) >= 0 {
			return true
		}
	}
	return false
}

// Init starts the redraw tick.
func (m *model) Init() tea.Cmd { return m.retick() }

// Update handles one message.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.KeyMsg:
		if cmd = m.onKey(msg); m.quitting {
			return m, cmd
		}
	case tapMsg:
		m.finger = 0
		if msg.down {
			m.finger = msg.key
		} else {
			m.queued = max(m.queued-1, 0)
			if msg.err != nil {
				m.notice = noticeMsg{text: msg.err.Error(), bad: true}
			}
		}
	case eventMsg:
		m.addEvent(lock.Event(msg))
	case noticeMsg:
		m.notice = msg
	case tea.WindowSizeMsg:
		m.width = msg.Width
	case tickMsg:
		if msg.gen != m.tickGen {
			return m, nil // a superseded tick chain ends here
		}
		m.snap = takeSnapshot(m.board, m.core)
		if m.wantFast() == m.tickFast {
			return m, m.tick()
		}
		return m, m.retick()
	}
	m.snap = takeSnapshot(m.board, m.core)
	return m, tea.Batch(cmd, m.retick())
}

func (m *model) addEvent(e lock.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	m.events = append(m.events, e)
	if n := len(m.events) - maxEvents; n > 0 {
		m.events = append(m.events[:0], m.events[n:]...)
	}
}

// wantFast reports whether something moves that no hook reports as it goes.
func (m *model) wantFast() bool {
	return m.snap.moving != 0 || m.queued > 0 || m.snap.keysDown != ""
}

// retick starts a new tick chain when the wanted rate changed, superseding
// the running one; otherwise the running chain goes on.
func (m *model) retick() tea.Cmd {
	fast := m.wantFast()
	if fast == m.tickFast && m.tickGen != 0 {
		return nil
	}
	m.tickFast = fast
	m.tickGen++
	return m.tick()
}

func (m *model) tick() tea.Cmd {
	d, gen := slowTick, m.tickGen
	if m.tickFast {
		d = fastTick
	}
	return tea.Tick(d, func(time.Time) tea.Msg { return tickMsg{gen} })
}

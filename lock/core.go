package lock

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/internal/clock"
)

// Config wires the core to its hardware and code store.
type Config struct {
	Keypad    Keypad    // required
	Bolt      Bolt      // required
	Codes     Codes     // required
	Door      Door      // optional: no door sensor
	Indicator Indicator // optional: no LEDs or buzzer
	// States keeps the operating mode and the alarms (optional: without
	// it the mode stays normal and alarms last until a restart).
	States StateStore
	// Tamper and Power are the optional alarm inputs (alarm.go).
	Tamper, Power AlarmInput
	// DoorAjar raises the ajar alarm when the door stays open this long;
	// 0 is off.
	DoorAjar time.Duration

	// AutoRelock locks the bolt this long after the door closed behind an
	// unlock (or after the unlock, when the door stays closed). 0 is off.
	AutoRelock time.Duration
	// Pulse, for a relay strike, relocks this long after every unlock
	// whatever the door does; it replaces AutoRelock.
	Pulse time.Duration
	// DoorGuard refuses to throw the bolt while the door is open; a lock
	// asked for meanwhile runs once the door closes. Set it for motor bolts.
	DoorGuard bool

	EntryTimeout       time.Duration // default 5 s
	ProgrammingTimeout time.Duration // default 30 s

	Clock clock.Clock  // default the real clock
	Log   *slog.Logger // default slog.Default()
	// Sink receives every event synchronously, in order, before any
	// subscriber: the audit log. It must not block for long.
	Sink func(Event)
}

// Core is the lock's policy core. Create it with New and start it with Run.
type Core struct {
	cfg Config
	log *slog.Logger
	clk clock.Clock
	hub hub
	// shownHealth: the LEDs show a health warning (loop goroutine only).
	shownHealth bool

	reqs     chan request
	refresh  chan refreshReq
	calls    chan loopCall // SetOperatingMode, AcknowledgeAlarm (mode.go)
	boltDone chan moveResult
	ready    chan struct{}
	beat     atomic.Int64 // unix nanoseconds of the last loop turn

	mu     sync.Mutex
	status Status

	// Owned by the Run goroutine.
	entry       entry
	runCtx      context.Context
	moving      bool
	cancelMove  context.CancelFunc
	want        gpio.Position // where a queued command wants the bolt
	wantSource  string
	wantUID     int
	jamPos      gpio.Position // where the bolt stood after the last jam
	pendingLock bool
	entryT      clock.Timer
	modeT       clock.Timer
	relockT     clock.Timer
	lockoutT    clock.Timer
	ma          alarms // alarm.go
}

// New checks cfg and returns a core ready to Run.
func New(cfg Config) (*Core, error) {
	if cfg.Keypad == nil || cfg.Bolt == nil || cfg.Codes == nil {
		return nil, errors.New("lock: keypad, bolt and code store are required")
	}
	if cfg.AutoRelock < 0 || cfg.Pulse < 0 || cfg.DoorAjar < 0 {
		return nil, errors.New("lock: negative relock time")
	}
	if cfg.EntryTimeout <= 0 {
		cfg.EntryTimeout = 5 * time.Second
	}
	if cfg.ProgrammingTimeout <= 0 {
		cfg.ProgrammingTimeout = 30 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	c := &Core{
		cfg:      cfg,
		log:      cfg.Log,
		clk:      cfg.Clock,
		reqs:     make(chan request),
		refresh:  make(chan refreshReq),
		calls:    make(chan loopCall),
		boltDone: make(chan moveResult, 1),
		ready:    make(chan struct{}),
	}
	c.status.State = StateUnknown
	return c, nil
}

// Subscribe returns a channel of events with room for n, and a function to
// stop the subscription. A subscriber that falls n events behind loses
// events; the lock never waits for it.
func (c *Core) Subscribe(n int) (<-chan Event, func()) { return c.hub.subscribe(n) }

// Ready is closed once Run has read the bolt, the door and the code store,
// so the state is known: the moment to tell systemd READY=1.
func (c *Core) Ready() <-chan struct{} { return c.ready }

// Heartbeat returns when the core's loop last turned. The loop turns at
// least once a second while it is healthy, so a stale heartbeat means a hung
// loop, and the watchdog must stop being fed.
func (c *Core) Heartbeat() time.Time { return time.Unix(0, c.beat.Load()) }

// emit stamps, records and publishes an event.
func (c *Core) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = c.clk.Now()
	}
	if e.Source != SourceDBus {
		e.UID = -1 // only D-Bus callers have a UID; 0 would read as root
	}
	c.log.Info("lock event", "kind", e.Kind, "source", e.Source, "reason", e.Reason,
		"code_id", e.CodeID, "code_kind", e.CodeKind, "slot", e.Slot)
	if c.cfg.Sink != nil {
		c.cfg.Sink(e)
	}
	c.hub.publish(e)
}

func (c *Core) show(p gpio.Pattern) {
	if c.cfg.Indicator != nil {
		c.cfg.Indicator.Show(p)
	}
}

func (c *Core) background(p gpio.Pattern) {
	if c.cfg.Indicator != nil {
		c.cfg.Indicator.SetBackground(p)
	}
}

// Run drives the lock until ctx is cancelled: it stops the motor, waits for
// the drivers, and returns nil. It returns an error only if it cannot start.
func (c *Core) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.runCtx = ctx
	c.touch()

	var wg sync.WaitGroup
	defer wg.Wait()
	keys := make(chan gpio.KeyEvent, 16)
	keypadDone := make(chan error, 1)
	wg.Add(1)
	go func() { defer wg.Done(); keypadDone <- c.cfg.Keypad.Run(ctx, keys) }()
	doors := make(chan bool, 4)
	if c.cfg.Door != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.cfg.Door.Run(ctx, doors); err != nil {
				c.log.Error("lock: door sensor stopped", "err", err)
			}
		}()
	}

	tamper, power := c.runInputs(ctx, &wg)
	c.start(ctx)
	close(c.ready)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		c.touch()
		c.syncAlarms()
		select {
		case <-ctx.Done():
			c.shutdown()
			return nil
		case ev := <-keys:
			c.onKey(ctx, ev)
		case err := <-keypadDone:
			keypadDone = nil
			if err != nil && ctx.Err() == nil {
				c.emit(Event{Kind: EventKeypadError, Source: SourceKeypad, Reason: err.Error()})
				c.setHealth("keypad", err.Error())
			}
		case open := <-doors:
			c.onDoor(open)
		case r := <-c.boltDone:
			c.onMoved(r)
		case r := <-c.reqs:
			r.reply <- c.onRequest(r)
		case k := <-c.calls:
			k.reply <- k.fn()
		case on := <-tamper:
			c.ma.tamper = on
		case on := <-power:
			c.ma.power = on
		case <-timerC(c.ma.ajarT):
			c.ma.ajarT = nil
			c.ma.ajar = true
		case r := <-c.refresh:
			c.emitAll(r.events)
			c.refreshCodes(ctx)
			close(r.done)
		case <-timerC(c.entryT):
			c.entryT = nil
			c.entry.timeout()
		case <-timerC(c.modeT):
			c.modeT = nil
			c.leaveMode()
		case <-timerC(c.relockT):
			c.relockT = nil
			c.autoRelock()
		case <-timerC(c.lockoutT):
			c.lockoutT = nil
			c.checkLockout(ctx)
		case <-tick.C:
			c.poll()
		}
	}
}

func (c *Core) touch() { c.beat.Store(time.Now().UnixNano()) }

// timerC returns t's channel, or nil (blocks forever) for no timer.
func timerC(t clock.Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C()
}

func stopTimer(t *clock.Timer) {
	if *t != nil {
		(*t).Stop()
		*t = nil
	}
}

// start reads where the bolt and door are and what the store says. It never
// moves the bolt.
func (c *Core) start(ctx context.Context) {
	pos := c.cfg.Bolt.Position()
	open := c.cfg.Door != nil && c.cfg.Door.Open()
	c.update(func(s *Status) {
		s.State = stateOf(pos)
		s.DoorOpen = open
		s.HasDoor = c.cfg.Door != nil
	})
	c.loadMode(ctx)
	c.loadAlarms(ctx)
	c.modeFollowsBolt(stateOf(pos), SourceStart)
	if pos == gpio.PosUnknown {
		c.emit(Event{Kind: EventPositionUnsure, Source: SourceStart,
			Reason: "limit switches do not show the bolt at either end; not moving it"})
		c.background(gpio.PatternError)
	}
	c.refreshCodes(ctx)
	if pos == gpio.PosUnlocked {
		c.armRelock()
	}
}

// refreshCodes reads provisioning and lockout from the store.
func (c *Core) refreshCodes(ctx context.Context) {
	prov, err := c.cfg.Codes.Provisioned(ctx)
	if err != nil {
		c.storeError(err)
		return
	}
	until, err := c.cfg.Codes.LockedOutUntil(ctx, c.clk.Now())
	if err != nil {
		c.storeError(err)
		return
	}
	c.update(func(s *Status) { s.Provisioned = prov; s.LockedOutUntil = until })
	c.noteWrongLeft(ctx)
	c.clearHealth("codes")
	c.setLockout(until)
	c.idleBackground()
}

func (c *Core) storeError(err error) {
	c.emit(Event{Kind: EventStoreError, Source: SourceKeypad, Reason: err.Error()})
	c.setHealth("codes", err.Error())
	c.background(gpio.PatternError)
}

// idleBackground picks the LED pattern for the current state.
func (c *Core) idleBackground() {
	s := c.Status()
	switch {
	case s.State == StateJammed || s.State == StateUnknown:
		c.background(gpio.PatternError)
	case !s.LockedOutUntil.IsZero():
		c.background(gpio.PatternLockedOut)
	case c.entry.mode != modeIdle:
		c.background(gpio.PatternProgramming)
	case !s.Provisioned:
		c.background(gpio.PatternUnprovisioned)
	case c.unacknowledged():
		c.background(gpio.PatternAlarmActive)
	case len(s.Health) > 0:
		// A subsystem needs a person (D-Bus down, an update rolled
		// back): the LEDs say so until it is resolved.
		c.background(gpio.PatternError)
	default:
		c.background(modeBackground(s.OperatingMode))
	}
	c.shownHealth = len(s.Health) > 0
}

// setLockout arms the end-of-lockout timer.
func (c *Core) setLockout(until time.Time) {
	stopTimer(&c.lockoutT)
	if until.IsZero() {
		return
	}
	c.lockoutT = c.clk.NewTimer(until.Sub(c.clk.Now()))
}

func (c *Core) checkLockout(ctx context.Context) {
	until, err := c.cfg.Codes.LockedOutUntil(ctx, c.clk.Now())
	if err != nil {
		c.storeError(err)
		return
	}
	if until.IsZero() {
		c.update(func(s *Status) { s.LockedOutUntil = time.Time{} })
		c.noteWrongLeft(ctx)
		c.emit(Event{Kind: EventLockoutEnd, Source: SourceKeypad})
		c.idleBackground()
		return
	}
	c.update(func(s *Status) { s.LockedOutUntil = until })
	c.setLockout(until)
}

// poll runs once a second: it notices a bolt moved by hand.
func (c *Core) poll() {
	if c.moving {
		return
	}
	if warn := len(c.Status().Health) > 0; warn != c.shownHealth && c.entry.mode == modeIdle {
		c.idleBackground() // SetWarning from another goroutine: show it
	}
	pos := c.cfg.Bolt.Position()
	cur := c.Status().State
	if cur == StateJammed && pos == c.jamPos {
		return // still where the jam left it: stay jammed until someone acts
	}
	st := stateOf(pos)
	if st == cur {
		return
	}
	c.update(func(s *Status) { s.State = st })
	c.emit(Event{Kind: EventPositionChange, Source: SourceManual, Reason: "bolt now " + string(st)})
	c.modeFollowsBolt(st, SourceManual)
	c.stopRelock()
	if st == StateUnlocked {
		c.armRelock()
	}
	c.idleBackground()
}

func (c *Core) shutdown() {
	if c.cancelMove != nil {
		c.cancelMove()
		<-c.boltDone
		c.moving = false
	}
	if err := c.cfg.Bolt.Stop(); err != nil {
		c.log.Error("lock: stop bolt", "err", err)
	}
	for _, t := range []*clock.Timer{&c.entryT, &c.modeT, &c.relockT, &c.lockoutT, &c.ma.ajarT} {
		stopTimer(t)
	}
	c.entry.leave()
}

func (c *Core) onDoor(open bool) {
	if c.Status().DoorOpen == open {
		return // the sensor's first report, or a bounce the driver let through
	}
	c.update(func(s *Status) { s.DoorOpen = open })
	if open {
		c.emit(Event{Kind: EventDoorOpen, Source: SourceDoor})
		c.raiseForced()
		c.armAjar()
		if c.cfg.Pulse == 0 {
			c.stopRelock()
		}
		return
	}
	c.emit(Event{Kind: EventDoorClosed, Source: SourceDoor})
	c.doorClosed()
	if c.pendingLock {
		c.pendingLock = false
		c.request(gpio.PosLocked, SourceDoor, -1)
		return
	}
	if c.Status().State == StateUnlocked && c.cfg.Pulse == 0 {
		c.armRelock()
	}
}

func (c *Core) leaveMode() {
	if c.entry.mode == modeIdle {
		return
	}
	c.entry.leave()
	c.update(func(s *Status) { s.Mode = modeName(modeIdle) })
	c.emit(Event{Kind: EventProgrammingEnd, Source: SourceKeypad, Reason: "timeout"})
	c.idleBackground()
}

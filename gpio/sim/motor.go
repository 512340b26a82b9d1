package sim

import (
	"math"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Bolt positions for StartAt and Motor.Position.
const (
	BoltUnlocked = 0.0
	BoltMid      = 0.5 // where SetJam's obstacle sits
	BoltLocked   = 1.0
)

// Motor is a bolt on an H-bridge motor with a limit switch at each end.
// Hand LockDir and UnlockDir to the driver as outputs and LockedSwitch and
// UnlockedSwitch as inputs.
//
// The bolt runs from BoltUnlocked (0) to BoltLocked (1) at 1/travel per
// second while exactly one direction input is active, and stops at the
// ends. Both inputs active is a shoot-through: the bolt does not move and
// ShortCircuit reports it forever after. A limit switch closes (drives its
// line to the active level) only while the bolt is at its end; open, it
// releases the line to the driver's pull. The model is event-driven: a
// timer fires when the bolt would arrive, and the position in between is
// computed from the time elapsed.
type Motor struct {
	travel               time.Duration
	lockDir, unlockDir   *Pin
	lockedSw, unlockedSw *Pin
	dirLow, switchLow    bool

	mu    sync.Mutex
	pos   float64 // at t0
	t0    time.Time
	vel   int // +1 toward locked, -1 toward unlocked, 0 still
	side  int // side of BoltMid the bolt is on: -1, +1, 0 wedged at mid
	jam   bool
	short bool
	timer *time.Timer
	hooks []func()
}

// MotorOption configures NewMotor.
type MotorOption func(*Motor)

// StartAt puts the bolt at pos (clamped to 0..1) instead of BoltUnlocked.
func StartAt(pos float64) MotorOption {
	return func(m *Motor) { m.pos = min(max(pos, BoltUnlocked), BoltLocked) }
}

// DirActiveLow makes the direction inputs active-low.
func DirActiveLow() MotorOption { return func(m *Motor) { m.dirLow = true } }

// SwitchActiveLow makes the limit switches pull their lines Low when
// closed (a switch to ground; the driver must then pull up).
func SwitchActiveLow() MotorOption { return func(m *Motor) { m.switchLow = true } }

// NewMotor returns a stopped bolt whose full travel takes travel. It panics
// if travel is not positive.
func NewMotor(travel time.Duration, opts ...MotorOption) *Motor {
	if travel <= 0 {
		panic("sim: motor travel must be positive")
	}
	m := &Motor{
		travel:     travel,
		lockDir:    NewPin("MOTOR_LOCK", -1),
		unlockDir:  NewPin("MOTOR_UNLOCK", -1),
		lockedSw:   NewPin("LIMIT_LOCKED", -1),
		unlockedSw: NewPin("LIMIT_UNLOCKED", -1),
	}
	for _, o := range opts {
		o(m)
	}
	m.lockDir.OnOut = func(gpio.Level) { m.update() }
	m.unlockDir.OnOut = func(gpio.Level) { m.update() }
	m.mu.Lock()
	m.t0 = time.Now()
	m.side = sideOf(m.pos, 0)
	m.settleLocked(m.t0)
	m.mu.Unlock()
	return m
}

// LockDir is the H-bridge input that drives the bolt toward locked.
func (m *Motor) LockDir() *Pin { return m.lockDir }

// UnlockDir is the H-bridge input that drives the bolt toward unlocked.
func (m *Motor) UnlockDir() *Pin { return m.unlockDir }

// LockedSwitch is the limit switch closed at the locked end.
func (m *Motor) LockedSwitch() *Pin { return m.lockedSw }

// UnlockedSwitch is the limit switch closed at the unlocked end.
func (m *Motor) UnlockedSwitch() *Pin { return m.unlockedSw }

// Position returns where the bolt is now: 0 unlocked .. 1 locked.
func (m *Motor) Position() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.posAt(time.Now())
}

// Moving returns +1 while the bolt moves toward locked, -1 toward unlocked
// and 0 while it stands still (stopped, at an end, or blocked).
func (m *Motor) Moving() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.vel
}

// ShortCircuit reports whether both direction inputs were ever active at
// the same time.
func (m *Motor) ShortCircuit() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.short
}

// Jammed reports whether the obstacle of SetJam is in place.
func (m *Motor) Jammed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.jam
}

// SetJam puts an obstacle at BoltMid (true) or takes it away. A bolt
// moving toward it stops there, from either side, and can still move back
// the way it came. A bolt that starts at BoltMid is wedged: while jammed it
// moves neither way.
func (m *Motor) SetJam(jam bool) {
	m.mu.Lock()
	m.jam = jam
	m.mu.Unlock()
	m.update()
}

// Notify adds f to the functions called after every change of motion,
// switches or jam (not on every bit of travel: poll Position while Moving).
// f runs on the goroutine that caused the change, which may be a driver's
// Out or a timer; it must not block and must not call Notify.
func (m *Motor) Notify(f func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hooks = append(m.hooks, f)
}

// update brings the model up to date and reports a change.
func (m *Motor) update() {
	m.mu.Lock()
	changed := m.settleLocked(time.Now())
	hooks := m.hooks
	m.mu.Unlock()
	if changed {
		for _, f := range hooks {
			f()
		}
	}
}

// settleLocked moves the bolt to where it is at now, takes up the drive the
// direction inputs now give, sets the switches and schedules the next
// arrival. It reports whether anything a watcher sees changed. Call with
// m.mu held.
func (m *Motor) settleLocked(now time.Time) bool {
	was := [...]any{m.vel, m.short, m.jam, m.pos >= BoltLocked, m.pos <= BoltUnlocked}
	m.pos, m.t0 = m.posAt(now), now
	m.side = sideOf(m.pos, m.side)

	lock, unlock := m.active(m.lockDir), m.active(m.unlockDir)
	m.short = m.short || (lock && unlock)
	m.vel = 0
	switch {
	case lock && !unlock:
		m.vel = 1
	case unlock && !lock:
		m.vel = -1
	}
	limit := m.limit()
	if limit == m.pos {
		m.vel = 0
	}
	m.setSwitch(m.lockedSw, m.pos >= BoltLocked)
	m.setSwitch(m.unlockedSw, m.pos <= BoltUnlocked)

	if m.timer != nil {
		m.timer.Stop() // a stale callback only re-settles: harmless
		m.timer = nil
	}
	if m.vel != 0 {
		eta := time.Duration(math.Ceil(math.Abs(limit-m.pos) * float64(m.travel)))
		m.timer = time.AfterFunc(eta, m.update)
	}
	now2 := [...]any{m.vel, m.short, m.jam, m.pos >= BoltLocked, m.pos <= BoltUnlocked}
	return was != now2
}

// posAt is where the bolt is at t given the motion since t0. Call with
// m.mu held.
func (m *Motor) posAt(t time.Time) float64 {
	if m.vel == 0 {
		return m.pos
	}
	p := m.pos + float64(m.vel)*float64(t.Sub(m.t0))/float64(m.travel)
	if m.vel > 0 {
		return min(p, m.limit())
	}
	return max(p, m.limit())
}

// limit is where the current motion from pos must stop. Call with m.mu
// held.
func (m *Motor) limit() float64 {
	switch {
	case m.vel > 0 && m.jam && m.side <= 0 && m.pos <= BoltMid:
		return BoltMid
	case m.vel > 0:
		return BoltLocked
	case m.vel < 0 && m.jam && m.side >= 0 && m.pos >= BoltMid:
		return BoltMid
	case m.vel < 0:
		return BoltUnlocked
	}
	return m.pos
}

// active reports whether a direction input is driven to its active level.
func (m *Motor) active(p *Pin) bool {
	l, out := p.OutLevel()
	return out && l == gpio.Level(!m.dirLow)
}

// setSwitch closes (drives) or opens (releases) a limit switch.
func (m *Motor) setSwitch(p *Pin, closed bool) {
	if closed {
		p.Drive(gpio.Level(!m.switchLow))
	} else {
		p.Release()
	}
}

// sideOf is the side of BoltMid that pos is on; at BoltMid it keeps last.
func sideOf(pos float64, last int) int {
	switch {
	case pos < BoltMid:
		return -1
	case pos > BoltMid:
		return 1
	}
	return last
}

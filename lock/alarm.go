package lock

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/internal/clock"
)

// Alarm names a condition that needs a person. An alarm is listed
// (Status.Alarms, the D-Bus Alarms property) from the moment it is raised
// until it is acknowledged and its condition has ended, whichever comes
// last: acknowledging an alarm whose condition persists silences it (its
// background pattern stops, Status keeps listing it), and it leaves the
// list by itself when the condition ends. One that ended before anyone
// acknowledged it stays listed until someone does. The store keeps the
// listed alarms, so a restart or a power cut never silences one.
//
// No alarm moves the bolt.
type Alarm string

// The alarms.
const (
	// AlarmForcedOpen: the door sensor opened while the bolt was locked
	// and at its locked end, with no unlock before it. An event, not a
	// condition: it is listed until acknowledged (the door left open is
	// AlarmAjar's business).
	AlarmForcedOpen Alarm = "forced-open"
	// AlarmAjar: the door stayed open longer than Config.DoorAjar.
	AlarmAjar Alarm = "ajar"
	// AlarmTamper: the tamper switch is open (the case is open, or its
	// wire cut).
	AlarmTamper Alarm = "tamper"
	// AlarmJammed: the bolt jammed and has not reached an end since.
	AlarmJammed Alarm = "jammed"
	// AlarmWrongEntryLimit: a keypad lockout runs.
	AlarmWrongEntryLimit Alarm = "wrong-entry-limit"
	// AlarmPower: the power-fail input says mains is lost.
	AlarmPower Alarm = "power"
)

// alarmOrder is the order of DESIGN.md, in which Status lists them.
var alarmOrder = [...]Alarm{AlarmForcedOpen, AlarmAjar, AlarmTamper, AlarmJammed, AlarmWrongEntryLimit, AlarmPower}

// Alarms returns every alarm name, in the order Status lists them.
func Alarms() []Alarm { return append([]Alarm(nil), alarmOrder[:]...) }

// Event kinds of alarms; Reason is the Alarm.
const (
	EventAlarm             = "alarm"              // raised
	EventAlarmCleared      = "alarm-cleared"      // its condition ended
	EventAlarmAcknowledged = "alarm-acknowledged" // by Source (UID over D-Bus)
)

// Event sources of the alarm inputs.
const (
	SourceTamper = "tamper"
	SourcePower  = "power"
)

var alarmSource = map[Alarm]string{
	AlarmForcedOpen: SourceDoor, AlarmAjar: SourceDoor, AlarmTamper: SourceTamper,
	AlarmJammed: SourceBolt, AlarmWrongEntryLimit: SourceKeypad, AlarmPower: SourcePower,
}

// alarmSound is what plays when an alarm is raised; jammed and
// wrong-entry-limit play their own (jam, locked-out) already.
var alarmSound = map[Alarm]gpio.Pattern{
	AlarmForcedOpen: gpio.PatternAlarm, AlarmTamper: gpio.PatternAlarm, AlarmPower: gpio.PatternAlarm,
	AlarmAjar: gpio.PatternAjar,
}

// Errors of AcknowledgeAlarm.
var (
	ErrBadAlarm  = errors.New("lock: unknown alarm")
	ErrNotActive = errors.New("lock: that alarm is not active")
)

// ParseAlarm returns the alarm called s; an error wrapping ErrBadAlarm
// lists the alarms.
func ParseAlarm(s string) (Alarm, error) {
	for _, a := range alarmOrder {
		if string(a) == s {
			return a, nil
		}
	}
	var names []string
	for _, a := range alarmOrder {
		names = append(names, string(a))
	}
	return "", fmt.Errorf("%w %.40q: want one of %s", ErrBadAlarm, s, strings.Join(names, ", "))
}

// AlarmInput is an optional input that raises an alarm (a tamper switch,
// a power-fail line; *gpio.AlarmInput). Alarm reads it now; Run sends the
// debounced state (true: in alarm) at start and on every change until ctx
// is cancelled.
type AlarmInput interface {
	Alarm() bool
	Run(ctx context.Context, changes chan<- bool) error
}

// alarmState is one listed alarm (loop goroutine only).
type alarmState struct {
	raised   time.Time
	acked    bool
	active   bool // its condition persists
	restored bool // read from the store at start; the first sync adopts it
}

// alarms is the core's alarm and input state (loop goroutine only).
type alarms struct {
	listed              map[Alarm]*alarmState
	ajarT               clock.Timer
	ajar, tamper, power bool // conditions only the inputs and the timer know
}

// AcknowledgeAlarm acknowledges a listed alarm and returns once that is
// durable: it leaves the list, or, if its condition persists, stays
// listed without its background pattern until the condition ends. It
// fails with ErrBadAlarm or ErrNotActive (not listed) and changes
// nothing then. Whether the caller may is the caller's decision.
func (c *Core) AcknowledgeAlarm(ctx context.Context, a Alarm, source string, uid int) error {
	if _, err := ParseAlarm(string(a)); err != nil {
		return err
	}
	return c.call(ctx, func() error { return c.acknowledge(a, source, uid) })
}

func (c *Core) acknowledge(a Alarm, source string, uid int) error {
	st := c.ma.listed[a]
	if st == nil {
		return fmt.Errorf("%w: %s", ErrNotActive, a)
	}
	if st.acked {
		return nil // acknowledged already; its condition persists
	}
	if st.active {
		if err := c.saveAlarm(a, alarmState{raised: st.raised, acked: true}); err != nil {
			return err
		}
		st.acked = true
	} else {
		if err := c.dropAlarm(a); err != nil {
			return err
		}
		delete(c.ma.listed, a)
	}
	c.publishAlarms() // before the event: who hears it reads Status
	c.emit(Event{Kind: EventAlarmAcknowledged, Source: source, Reason: string(a), UID: uid})
	c.idleBackground()
	return nil
}

// keypadAck is "8 #" in programming mode: acknowledge every listed alarm.
func (c *Core) keypadAck() {
	for _, a := range alarmOrder {
		if c.ma.listed[a] != nil {
			if err := c.acknowledge(a, SourceKeypad, -1); err != nil {
				c.emit(Event{Kind: EventRefused, Source: SourceKeypad, Reason: "alarm-not-kept"})
				c.show(gpio.PatternDenied)
				return
			}
		}
	}
	c.show(gpio.PatternProgrammingStep)
}

// loadAlarms reads the listed alarms, the inputs and the door at start,
// before anything can raise one.
func (c *Core) loadAlarms(ctx context.Context) {
	c.ma.listed = map[Alarm]*alarmState{}
	if c.cfg.States != nil {
		recs, err := c.cfg.States.Alarms(ctx)
		if err != nil {
			c.log.Error("lock: read alarms", "err", err)
			c.setHealth("alarms", "stored alarms unreadable: "+err.Error())
		}
		for _, r := range recs {
			a, err := ParseAlarm(r.Name)
			if err != nil {
				c.log.Warn("lock: stored alarm of another version ignored", "name", r.Name)
				continue
			}
			c.ma.listed[a] = &alarmState{raised: r.Raised, acked: r.Acked, restored: true}
		}
	}
	c.ma.tamper = c.cfg.Tamper != nil && c.cfg.Tamper.Alarm()
	c.ma.power = c.cfg.Power != nil && c.cfg.Power.Alarm()
	if c.Status().DoorOpen {
		c.armAjar() // open for who knows how long: count from now
	}
}

// conditions says which alarms' conditions hold now.
func (c *Core) conditions() map[Alarm]bool {
	s := c.Status()
	return map[Alarm]bool{
		AlarmAjar: c.ma.ajar, AlarmTamper: c.ma.tamper, AlarmPower: c.ma.power,
		AlarmJammed: s.State == StateJammed, AlarmWrongEntryLimit: !s.LockedOutUntil.IsZero(),
	}
}

// syncAlarms raises the alarms whose condition began and clears those
// whose condition ended. The loop runs it after every turn, so every
// path to a jam, a lockout or an input change is covered.
func (c *Core) syncAlarms() {
	cond := c.conditions()
	changed := false
	for _, a := range alarmOrder {
		on, st := cond[a], c.ma.listed[a]
		switch {
		case st != nil && st.restored:
			// Listed before the restart: a condition that persists
			// is adopted without a second alarm.
			st.restored, st.active, changed = false, on, true
			if !on && st.acked {
				c.endAlarm(a, st, false) // ended while lockd was down
			}
		case on && (st == nil || !st.active):
			c.raise(a)
			changed = true
		case !on && st != nil && st.active:
			c.endAlarm(a, st, true)
			changed = true
		}
	}
	if changed {
		c.publishAlarms() // restored alarms change no list but are published once
		c.idleBackground()
	}
}

// raise lists a, stores it, says so and sounds it.
func (c *Core) raise(a Alarm) {
	st := &alarmState{raised: c.clk.Now(), active: a != AlarmForcedOpen}
	c.ma.listed[a] = st
	if err := c.saveAlarm(a, *st); err != nil {
		c.log.Error("lock: alarm not saved", "alarm", a, "err", err) // still raised: the safe side
	}
	c.publishAlarms() // before the event: who hears it reads Status
	c.emit(Event{Kind: EventAlarm, Source: alarmSource[a], Reason: string(a)})
	if p, ok := alarmSound[a]; ok {
		c.show(p)
	}
}

// endAlarm notes that a's condition ended (say: with an event); an
// acknowledged alarm then leaves the list.
func (c *Core) endAlarm(a Alarm, st *alarmState, say bool) {
	st.active = false
	if st.acked {
		if err := c.dropAlarm(a); err != nil {
			c.log.Error("lock: alarm not removed from the store", "alarm", a, "err", err)
		}
		delete(c.ma.listed, a)
	}
	c.publishAlarms()
	if say {
		c.emit(Event{Kind: EventAlarmCleared, Source: alarmSource[a], Reason: string(a)})
	}
}

// raiseForced raises forced-open when the door opened on a locked bolt:
// locked by the core's account and at its locked end now, so a thumb
// turn the once-a-second poll has not seen yet is no forced door.
func (c *Core) raiseForced() {
	if c.moving || c.Status().State != StateLocked || c.cfg.Bolt.Position() != gpio.PosLocked {
		return
	}
	c.raise(AlarmForcedOpen)
	c.idleBackground()
}

// armAjar starts the door-ajar countdown; doorClosed ends it.
func (c *Core) armAjar() {
	stopTimer(&c.ma.ajarT)
	if c.cfg.DoorAjar > 0 {
		c.ma.ajarT = c.clk.NewTimer(c.cfg.DoorAjar)
	}
}

func (c *Core) doorClosed() {
	stopTimer(&c.ma.ajarT)
	c.ma.ajar = false
}

// publishAlarms puts the listed alarms into Status, as a new slice:
// Status copies share it, so it is never changed in place.
func (c *Core) publishAlarms() {
	var list []Alarm
	for _, a := range alarmOrder {
		if c.ma.listed[a] != nil {
			list = append(list, a)
		}
	}
	c.update(func(s *Status) { s.Alarms = list })
}

// unacknowledged reports whether an alarm still wants attention.
func (c *Core) unacknowledged() bool {
	for _, st := range c.ma.listed {
		if !st.acked {
			return true
		}
	}
	return false
}

func (c *Core) saveAlarm(a Alarm, st alarmState) error {
	if c.cfg.States == nil {
		return nil
	}
	err := c.cfg.States.SaveAlarm(c.runCtx, AlarmRecord{Name: string(a), Raised: st.raised, Acked: st.acked})
	return c.alarmWrite(err)
}

func (c *Core) dropAlarm(a Alarm) error {
	if c.cfg.States == nil {
		return nil
	}
	return c.alarmWrite(c.cfg.States.DeleteAlarm(c.runCtx, string(a)))
}

// alarmWrite keeps the "alarms" health warning in step with the store.
func (c *Core) alarmWrite(err error) error {
	if err != nil {
		c.setHealth("alarms", "not saved: "+err.Error())
		return fmt.Errorf("lock: keep the alarm: %w", err)
	}
	c.clearHealth("alarms")
	return nil
}

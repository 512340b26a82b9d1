package lock

import (
	"context"
	"time"

	"lockd.dev/lockd/gpio"
)

// onKey runs the keypad protocol for one key event.
func (c *Core) onKey(ctx context.Context, ev gpio.KeyEvent) {
	if ev.Card != nil || ev.Err != nil {
		c.onCard(ctx, ev) // cards.go
		return
	}
	if !ev.Down {
		return
	}
	c.show(gpio.PatternKey)
	now := c.clk.Now()
	c.update(func(s *Status) { s.LastKey = now })
	stopTimer(&c.entryT)
	c.entryT = c.clk.NewTimer(c.cfg.EntryTimeout)
	if c.entry.mode != modeIdle {
		stopTimer(&c.modeT)
		c.modeT = c.clk.NewTimer(c.cfg.ProgrammingTimeout)
	}
	st := c.entry.key(ev.Key, c.Status().Provisioned)
	c.perform(ctx, st)
	if !c.entry.busy() {
		stopTimer(&c.entryT)
	}
}

// perform carries out a protocol step.
func (c *Core) perform(ctx context.Context, st step) {
	now := c.clk.Now()
	switch st.kind {
	case stepNone:
	case stepLockNow:
		c.modeGate(gpio.PosLocked, SourceKeypad, -1) // a lock ends passage
		if err := c.request(gpio.PosLocked, SourceKeypad, -1); err != nil {
			c.show(gpio.PatternDenied)
		}
	case stepVerify:
		c.verify(ctx, st, now)
	case stepBad:
		c.emit(Event{Kind: EventRefused, Source: SourceKeypad, Reason: st.reason})
		c.show(gpio.PatternDenied)
		c.afterMode()
	case stepPrompt:
		c.show(gpio.PatternProgrammingStep)
		c.afterMode()
	case stepMismatch:
		c.emit(Event{Kind: EventRefused, Source: SourceKeypad, Reason: "codes-differ"})
		c.show(gpio.PatternDenied)
		c.afterMode()
	case stepLeave:
		c.emit(Event{Kind: EventProgrammingEnd, Source: SourceKeypad})
		c.afterMode()
	case stepAddUser:
		slot, err := c.cfg.Codes.AddUser(ctx, st.code, now)
		if c.refused(ctx, err) {
			return
		}
		c.emit(Event{Kind: EventCodeAdded, Source: SourceKeypad, CodeKind: "user", Slot: slot})
		if c.cfg.Indicator != nil {
			c.cfg.Indicator.Beeps(slot)
		}
	case stepRemove:
		if c.refused(ctx, c.cfg.Codes.RemoveSlot(ctx, st.slot, now)) {
			return
		}
		c.emit(Event{Kind: EventCodeRemoved, Source: SourceKeypad, Slot: st.slot})
		c.show(gpio.PatternProgrammingStep)
	case stepNewAdmin:
		if c.refused(ctx, c.cfg.Codes.SetAdmin(ctx, st.code, now)) {
			return
		}
		c.emit(Event{Kind: EventAdminChanged, Source: SourceKeypad, CodeKind: "admin"})
		c.show(gpio.PatternProgrammingStep)
	case stepOpMode:
		c.keypadMode(st.opMode)
	case stepAckAlarm:
		c.keypadAck()
	case stepSetup:
		if c.refused(ctx, c.cfg.Codes.SetAdmin(ctx, st.code, now)) {
			c.afterMode()
			return
		}
		c.update(func(s *Status) { s.Provisioned = true })
		c.emit(Event{Kind: EventSetup, Source: SourceKeypad, CodeKind: "admin"})
		c.show(gpio.PatternGranted)
		c.afterMode()
	}
}

// refused reports a refused programming step; it returns true if err != nil.
// A code that collides with a stored one counts as a wrong entry in the
// store, so the refusal may have started a lockout: then programming mode
// ends with it.
func (c *Core) refused(ctx context.Context, err error) bool {
	if err == nil {
		return false
	}
	c.emit(Event{Kind: EventRefused, Source: SourceKeypad, Reason: err.Error()})
	c.noteWrongLeft(ctx)
	until, lerr := c.cfg.Codes.LockedOutUntil(ctx, c.clk.Now())
	if lerr != nil {
		c.storeError(lerr)
	}
	if until.IsZero() || !c.Status().LockedOutUntil.IsZero() {
		c.show(gpio.PatternDenied)
		return true
	}
	c.entry.leave()
	c.update(func(s *Status) { s.LockedOutUntil = until })
	c.emit(Event{Kind: EventLockout, Source: SourceKeypad, Until: until})
	c.setLockout(until)
	c.show(gpio.PatternLockedOut)
	c.afterMode()
	return true
}

// afterMode updates status and LEDs after the keypad mode changed.
func (c *Core) afterMode() {
	if c.entry.mode == modeIdle {
		stopTimer(&c.modeT)
	}
	c.update(func(s *Status) { s.Mode = modeName(c.entry.mode) })
	c.idleBackground()
}

// verify checks an entry with the store and acts on the verdict.
func (c *Core) verify(ctx context.Context, st step, now time.Time) {
	if st.purpose == PurposeOpen && c.privacyRefuses(SourceKeypad) {
		return
	}
	v, err := c.cfg.Codes.Verify(ctx, st.purpose, st.code, now)
	c.answer(ctx, SourceKeypad, st.purpose, v, err)
}

// answer acts on the store's verdict on an entry from source (the
// keypad, or a card at the reader: the same lights, events and bolt).
func (c *Core) answer(ctx context.Context, source string, purpose Purpose, v Verdict, err error) {
	if err != nil {
		c.storeError(err)
		c.emit(Event{Kind: EventDenied, Source: source, Reason: ReasonError})
		c.show(gpio.PatternDenied)
		return
	}
	c.clearHealth("codes")
	c.noteWrongLeft(ctx) // a wrong entry spends one, a grant may forgive
	if v.NonAccess || v.SecondFactor {
		c.recognised(source, v) // cards.go
		return
	}
	if !v.OK {
		c.denied(source, v)
		return
	}
	c.entry.verified(purpose, true)
	switch purpose {
	case PurposeOpen:
		// The motor starts before the events are written: the audit log
		// can wait a few microseconds, the person at the door should not.
		c.pendingLock = false
		first := []Event{{Kind: EventGranted, Source: source, CodeID: v.CodeID, CodeKind: v.Kind, Slot: v.Slot, Credential: v.Credential}}
		if v.Duress {
			first = append(first, Event{Kind: EventDuress, Source: source, CodeID: v.CodeID, CodeKind: v.Kind, Slot: v.Slot, Credential: v.Credential})
		}
		c.request(gpio.PosUnlocked, source, -1, first...)
		c.show(gpio.PatternGranted)
	case PurposeAdmin:
		c.emit(Event{Kind: EventProgramming, Source: SourceKeypad, CodeID: v.CodeID, CodeKind: v.Kind})
		c.modeT = c.clk.NewTimer(c.cfg.ProgrammingTimeout)
		c.show(gpio.PatternProgrammingStep)
		c.afterMode()
	case PurposeSetup:
		c.emit(Event{Kind: EventSetupStarted, Source: SourceKeypad})
		c.modeT = c.clk.NewTimer(c.cfg.ProgrammingTimeout)
		c.show(gpio.PatternProgrammingStep)
		c.afterMode()
	}
}

func (c *Core) denied(source string, v Verdict) {
	c.emit(Event{Kind: EventDenied, Source: source, Reason: v.Reason, CodeID: v.CodeID, CodeKind: v.Kind, Slot: v.Slot, Credential: v.Credential})
	if v.Lockout {
		c.update(func(s *Status) { s.LockedOutUntil = v.Until })
		c.emit(Event{Kind: EventLockout, Source: source, Until: v.Until})
		c.setLockout(v.Until)
		c.show(gpio.PatternLockedOut)
		c.idleBackground()
		return
	}
	if v.Reason == ReasonLockedOut {
		c.show(gpio.PatternLockedOut)
		return
	}
	if v.Reason == ReasonUnprovisioned {
		c.show(gpio.PatternUnprovisioned)
		return
	}
	c.show(gpio.PatternDenied)
}

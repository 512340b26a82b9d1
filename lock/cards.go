package lock

import (
	"context"
	"time"

	"lockd.dev/lockd/gpio"
)

// Cards is the part of the code store that knows Wiegand cards. The core
// asks its Codes for it; a store without it refuses every card, unread,
// as a store without cards must.
//
// VerifyCard checks a card presented at the reader exactly as Verify
// checks a PIN typed to open (PurposeOpen): an unknown or refused card
// counts as a wrong entry, during a lockout nothing is checked. EnrolCard
// enrols card to the user in keypad slot slot, or to a new user in the
// next free slot when slot is 0, and returns the slot; a card already
// enrolled is refused and counts as a wrong entry (a colliding code).
type Cards interface {
	VerifyCard(ctx context.Context, card gpio.Card, now time.Time) (Verdict, error)
	EnrolCard(ctx context.Context, slot int, card gpio.Card, now time.Time) (int, error)
}

// Event kinds and reasons of credentials. They are part of the D-Bus and
// audit-log contract.
const (
	// EventNonAccess: a non-access user's credential was recognised. It
	// opened nothing and is not a wrong entry.
	EventNonAccess = "non-access"
	// EventCardAccepted: a two-factor user's card was accepted; the
	// user's PIN must follow (reason pin-needed).
	EventCardAccepted = "card-accepted"
	// EventCredentialAdded: a card (or PIN) was added to a user;
	// Credential says which, Slot whose.
	EventCredentialAdded = "credential-added"

	// ReasonBadFrame: the reader sent a frame that does not decode (bad
	// parity, a bit count no card or key has). Nothing was read from it,
	// so nothing was checked and nothing counted.
	ReasonBadFrame = "bad-frame"
	// ReasonBusy: a card came during programming mode other than "4":
	// it is not looked at.
	ReasonBusy = "programming"
	// ReasonNonAccess, ReasonPINNeeded and ReasonCardMissing as in codes.
	ReasonNonAccess   = "non-access"
	ReasonPINNeeded   = "pin-needed"
	ReasonCardMissing = "card-missing"
)

// onCard handles what the reader sent besides keys: a card, or a frame
// it could not decode.
func (c *Core) onCard(ctx context.Context, ev gpio.KeyEvent) {
	now := c.clk.Now()
	c.update(func(s *Status) { s.LastKey = now })
	if ev.Err != nil {
		c.emit(Event{Kind: EventRefused, Source: SourceCard, Reason: ReasonBadFrame})
		c.show(gpio.PatternDenied)
		return
	}
	cards, ok := c.cfg.Codes.(Cards)
	switch {
	case !ok:
		c.emit(Event{Kind: EventDenied, Source: SourceCard, Reason: ReasonUnknown})
		c.show(gpio.PatternDenied)
	case c.entry.mode == modeEnrol:
		c.enrol(ctx, cards, *ev.Card, now)
	case c.entry.mode != modeIdle:
		c.emit(Event{Kind: EventRefused, Source: SourceCard, Reason: ReasonBusy})
		c.show(gpio.PatternDenied)
	case c.privacyRefuses(SourceCard):
		// refused unseen, uncounted (mode.go)
	default:
		v, err := cards.VerifyCard(ctx, *ev.Card, now)
		c.answer(ctx, SourceCard, PurposeOpen, v, err)
	}
}

// enrol adds the card presented after "4 [SLOT] #" in programming mode;
// programming mode goes on, or ends with a lockout the refusal started.
func (c *Core) enrol(ctx context.Context, cards Cards, card gpio.Card, now time.Time) {
	slot := c.entry.enrol
	c.entry.mode, c.entry.enrol = modeProgramming, 0
	stopTimer(&c.modeT)
	c.modeT = c.clk.NewTimer(c.cfg.ProgrammingTimeout)
	slot, err := cards.EnrolCard(ctx, slot, card, now)
	if c.refused(ctx, err) {
		c.afterMode()
		return
	}
	c.emit(Event{Kind: EventCredentialAdded, Source: SourceKeypad, CodeKind: "user", Slot: slot, Credential: "card"})
	if c.cfg.Indicator != nil {
		c.cfg.Indicator.Beeps(slot)
	}
	c.afterMode()
}

// recognised answers a credential that opens nothing but is no wrong
// entry: a non-access user's, or a two-factor user's card waiting for the
// PIN. Both get the programming-step beeps: heard, nothing opened.
func (c *Core) recognised(source string, v Verdict) {
	kind := EventNonAccess
	if v.SecondFactor {
		kind = EventCardAccepted
	}
	c.emit(Event{Kind: kind, Source: source, Reason: v.Reason, CodeID: v.CodeID, CodeKind: v.Kind, Slot: v.Slot, Credential: v.Credential})
	c.show(gpio.PatternProgrammingStep)
}

func (u unavailable) VerifyCard(context.Context, gpio.Card, time.Time) (Verdict, error) {
	return Verdict{Reason: ReasonError}, u.fail()
}
func (u unavailable) EnrolCard(context.Context, int, gpio.Card, time.Time) (int, error) {
	return 0, u.fail()
}

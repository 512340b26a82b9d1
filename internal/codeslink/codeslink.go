// Package codeslink joins the code store to the lock core: the store
// behind the core's lock.Codes interface, and the core's events into the
// store's audit log. lockd, its benchmark and the D-Bus tests all wire the
// two the same way through here.
package codeslink

import (
	"context"
	"time"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/lock"
)

// Codes is a *codes.Store as lock.Codes; the two packages share the shapes
// of Purpose and Verdict but not the types.
type Codes struct{ *codes.Store }

var (
	_ lock.Codes = Codes{}
	_ lock.Cards = Codes{}
)

// Verify checks a keypad entry.
func (c Codes) Verify(ctx context.Context, p lock.Purpose, code string, now time.Time) (lock.Verdict, error) {
	v, err := c.Store.Verify(ctx, codes.Purpose(p), code, now)
	return lock.Verdict(v), err
}

// VerifyCard checks a card presented at the reader.
func (c Codes) VerifyCard(ctx context.Context, card gpio.Card, now time.Time) (lock.Verdict, error) {
	v, err := c.Store.VerifyCard(ctx, codes.Card(card), now)
	return lock.Verdict(v), err
}

// EnrolCard enrols a card presented in programming mode.
func (c Codes) EnrolCard(ctx context.Context, slot int, card gpio.Card, now time.Time) (int, error) {
	return c.Store.EnrolCard(ctx, slot, codes.Card(card), now)
}

// AuditEvent turns a lock event into an audit-log entry.
func AuditEvent(e lock.Event) codes.AuditEvent {
	a := codes.AuditEvent{Time: e.Time, Kind: e.Kind, Source: e.Source, Reason: e.Reason,
		CodeID: e.CodeID, CodeKind: e.CodeKind, Slot: e.Slot, UID: e.UID}
	if !e.Until.IsZero() {
		a.Details = map[string]string{"until": e.Until.UTC().Format(time.RFC3339)}
	}
	if e.Credential != "" {
		if a.Details == nil {
			a.Details = map[string]string{}
		}
		a.Details[codes.DetailCredential] = e.Credential
	}
	return a
}

// AuditSink returns a lock.Config.Sink writing every event to s; onErr
// hears of writes that failed (the event is then lost, and says so).
func AuditSink(ctx context.Context, s *codes.Store, onErr func(lock.Event, error)) func(lock.Event) {
	ctx = context.WithoutCancel(ctx)
	return func(e lock.Event) {
		if err := s.Record(ctx, AuditEvent(e)); err != nil && onErr != nil {
			onErr(e, err)
		}
	}
}

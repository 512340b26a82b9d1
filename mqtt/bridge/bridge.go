// Package bridge decides what lockd-mqtt publishes when, and what a
// message from the broker may make lockd do. It owns the interfaces it
// needs of the broker (Publisher) and of lockd (Locker) and is driven by
// their updates, one event at a time, so its state needs no lock.
//
// Nothing from the broker moves the bolt unless all of these hold: the
// message came on the command topic, live (not retained), as one of the
// exact command payloads (command.go), remote unlock is on, lockd is
// reachable, and for UNLOCK with a PIN required the PIN is right and no
// wrong-PIN lockout runs. Then lockd's own Lock or Unlock decides.
package bridge

import (
	"bytes"
	"context"
	"log/slog"
	"time"

	"lockd.dev/lockd/mqtt/broker"
	"lockd.dev/lockd/mqtt/hass"
	"lockd.dev/lockd/mqtt/lockbus"
	"lockd.dev/lockd/mqtt/pin"
)

// Publisher is the broker connection as the bridge uses it.
type Publisher interface {
	// Publish sends one message; it fails while disconnected.
	Publish(ctx context.Context, topic string, payload []byte, retain bool) error
}

// Locker is lockd as the bridge uses it: lockd authorises each call.
type Locker interface {
	Lock(ctx context.Context) error
	Unlock(ctx context.Context) error
}

// PINChecker answers a PIN (pin.Guard).
type PINChecker interface {
	Check(code string) (pin.Result, time.Time)
}

// Config is how the bridge publishes and what it allows.
type Config struct {
	Topics          hass.Topics
	Discovery       bool   // homeassistant.discovery
	DiscoveryPrefix string // homeassistant.prefix
	Device          hass.Device
	// RemoteUnlock lets commands reach lockd (remote.unlock).
	RemoteUnlock bool
	// PIN, when set, guards UNLOCK (remote.require_pin).
	PIN PINChecker
	Now func() time.Time
}

// publishTimeout bounds one publication; a broker that does not
// acknowledge in time is treated as lost by the broker package.
const publishTimeout = 5 * time.Second

// Bridge is the state between lockd and the broker.
type Bridge struct {
	cfg  Config
	pub  Publisher
	lock Locker
	log  *slog.Logger

	brokerUp bool
	snap     *lockbus.Snapshot // nil while lockd is unreachable
	event    *lockbus.Event    // the last one, republished on reconnect
	features *hass.Features    // what the published discovery describes; nil: none yet
	sent     map[string][]byte // topic -> last payload the broker acknowledged
	lockout  *time.Timer       // fires when a lockout ends
}

// New returns a bridge; Run drives it.
func New(cfg Config, pub Publisher, lock Locker, log *slog.Logger) *Bridge {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Bridge{cfg: cfg, pub: pub, lock: lock, log: log, sent: map[string][]byte{}}
}

// Run handles lockd's updates and the broker's events until ctx ends.
func (b *Bridge) Run(ctx context.Context, lockd <-chan lockbus.Update, mqtt <-chan broker.Event) {
	b.lockout = time.NewTimer(time.Hour)
	b.lockout.Stop()
	defer b.lockout.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case u := <-lockd:
			b.lockdUpdate(ctx, u)
		case e := <-mqtt:
			b.brokerEvent(ctx, e)
		case <-b.lockout.C:
			b.publishStates(ctx)
		}
	}
}

func (b *Bridge) lockdUpdate(ctx context.Context, u lockbus.Update) {
	switch {
	case u.Event != nil:
		b.event = u.Event
		b.publishAll(ctx, hass.EventMessages(b.cfg.Topics, u.Event))
	case u.Snapshot == nil:
		if b.snap != nil {
			b.log.Warn("bridge: lockd is not reachable; availability offline", "why", u.Why)
		}
		b.snap = nil
		b.publishAvailability(ctx)
	default:
		b.snap = u.Snapshot
		b.publishDiscovery(ctx)
		b.publishStates(ctx)
		b.publishAvailability(ctx)
	}
}

func (b *Bridge) brokerEvent(ctx context.Context, e broker.Event) {
	switch {
	case e.Message != nil:
		b.command(ctx, e.Message)
	case e.Up:
		// A new connection may be a restarted broker that lost every
		// retained message: publish everything again.
		b.brokerUp = true
		b.features = nil
		clear(b.sent)
		b.publishDiscovery(ctx)
		b.publishStates(ctx)
		if b.event != nil {
			b.publishAll(ctx, hass.EventMessages(b.cfg.Topics, b.event))
		}
		b.publishAvailability(ctx)
	default:
		b.brokerUp = false
	}
}

// features are what the current snapshot offers.
func (b *Bridge) currentFeatures() hass.Features {
	s := b.snap
	return hass.Features{Door: s.HasDoor, Alarms: s.HasAlarms, OperatingMode: s.HasOperatingMode,
		Update: s.Update != nil, PIN: b.cfg.PIN != nil}
}

// publishDiscovery (re)publishes the discovery configs when the broker
// has none from this connection or lockd's features changed.
func (b *Bridge) publishDiscovery(ctx context.Context) {
	if !b.cfg.Discovery || !b.brokerUp || b.snap == nil {
		return
	}
	f := b.currentFeatures()
	if b.features != nil && *b.features == f {
		return
	}
	dev := b.cfg.Device
	if b.snap.Update != nil {
		dev.SWVersion = b.snap.Update.Installed
	}
	if b.publishAll(ctx, hass.Discovery(b.cfg.DiscoveryPrefix, b.cfg.Topics, dev, f)) {
		b.features = &f
		b.log.Info("bridge: published Home Assistant discovery", "prefix", b.cfg.DiscoveryPrefix,
			"node_id", dev.NodeID, "door", f.Door, "alarms", f.Alarms, "operating_mode", f.OperatingMode, "update", f.Update)
	}
}

func (b *Bridge) publishStates(ctx context.Context) {
	if b.snap == nil {
		return
	}
	now := b.cfg.Now()
	b.publishAll(ctx, hass.States(b.cfg.Topics, b.snap, now))
	b.lockout.Stop()
	if until := b.snap.LockedOutUntil; until.After(now) {
		b.lockout.Reset(until.Sub(now))
	}
}

// publishAvailability says online when both the broker and lockd are
// reachable; while lockd is away it says offline (the broker says it
// for lockd-mqtt itself, through the will).
func (b *Bridge) publishAvailability(ctx context.Context) {
	p := hass.Offline
	if b.snap != nil {
		p = hass.Online
	}
	b.publishAll(ctx, []hass.Message{{Topic: b.cfg.Topics.Availability(), Payload: []byte(p), Retain: true}})
}

// publishAll publishes what changed since the broker last acknowledged
// it; it reports whether everything went out.
func (b *Bridge) publishAll(ctx context.Context, msgs []hass.Message) bool {
	if !b.brokerUp {
		return false
	}
	ok := true
	for _, m := range msgs {
		if last, seen := b.sent[m.Topic]; m.Retain && seen && bytes.Equal(last, m.Payload) {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, publishTimeout)
		err := b.pub.Publish(pctx, m.Topic, m.Payload, m.Retain)
		cancel()
		if err != nil {
			b.log.Warn("bridge: publish failed", "topic", m.Topic, "err", err)
			ok = false
			continue
		}
		if m.Retain {
			b.sent[m.Topic] = m.Payload
		}
	}
	return ok
}

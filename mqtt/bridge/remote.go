package bridge

import (
	"context"
	"time"

	"lockd.dev/lockd/mqtt/broker"
	"lockd.dev/lockd/mqtt/pin"
)

// command handles one message from the broker. Every refusal is one log
// line that says why and never quotes the payload (it may hold a PIN).
func (b *Bridge) command(ctx context.Context, m *broker.Message) {
	topic := b.cfg.Topics.Command()
	if m.Topic != topic {
		b.log.Warn("bridge: ignored a message on a topic lockd-mqtt does not act on", "topic", m.Topic, "bytes", len(m.Payload))
		return
	}
	if m.Retained {
		b.log.Warn("bridge: ignored a retained command: the broker kept it from earlier (perhaps from before a restart), "+
			"and lockd-mqtt acts only on commands sent while it listens; clear it with an empty retained message",
			"topic", topic, "bytes", len(m.Payload))
		return
	}
	cmd, err := ParseCommand(m.Payload)
	if err != nil {
		b.log.Warn("bridge: ignored a command", "topic", topic, "err", err)
		return
	}
	if !b.cfg.RemoteUnlock {
		b.log.Warn("bridge: refused "+cmd.Action.String()+": remote unlock is off (remote.unlock in mqtt.toml)", "topic", topic)
		return
	}
	if b.snap == nil {
		b.log.Warn("bridge: refused "+cmd.Action.String()+": lockd is not reachable", "topic", topic)
		return
	}
	// Only UNLOCK checks the PIN: locking needs none, and checking one
	// sent with LOCK would hand out an answer for free.
	if cmd.Action == ActionUnlock && b.cfg.PIN != nil {
		if cmd.Code == "" {
			b.log.Warn("bridge: refused UNLOCK: no PIN, and remote.require_pin is on", "topic", topic)
			return
		}
		switch r, until := b.cfg.PIN.Check(cmd.Code); r {
		case pin.LockedOut:
			b.log.Warn("bridge: refused UNLOCK: too many wrong PINs; no PIN is checked until the lockout ends",
				"until", until.Format(time.RFC3339))
			return
		case pin.Wrong:
			if !until.IsZero() {
				b.log.Warn("bridge: refused UNLOCK: wrong PIN; too many in a row: no PIN is checked until the lockout ends",
					"until", until.Format(time.RFC3339))
			} else {
				b.log.Warn("bridge: refused UNLOCK: wrong PIN")
			}
			return
		}
	}
	call := b.lock.Lock
	if cmd.Action == ActionUnlock {
		call = b.lock.Unlock
	}
	if err := call(ctx); err != nil {
		b.log.Warn("bridge: "+cmd.Action.String()+" failed", "err", err)
		return
	}
	b.log.Info("bridge: " + cmd.Action.String() + " sent to lockd")
}

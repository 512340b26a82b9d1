package bridge

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"lockd.dev/lockd/mqtt/broker"
	"lockd.dev/lockd/mqtt/broker/brokertest"
	"lockd.dev/lockd/mqtt/hass"
	"lockd.dev/lockd/mqtt/lockbus"
	"lockd.dev/lockd/mqtt/lockbus/lockbustest"
	"lockd.dev/lockd/mqtt/pin"
)

const thePIN = "739164"

// rig drives a Bridge synchronously through its handlers: no goroutine,
// no waiting.
type rig struct {
	t    *testing.T
	b    *Bridge
	pub  *brokertest.Publisher
	lock *lockbustest.Locker
	logs *bytes.Buffer
	tp   hass.Topics
	now  time.Time
}

func newRig(t *testing.T, remote, withPIN bool) *rig {
	r := &rig{t: t, pub: &brokertest.Publisher{}, lock: &lockbustest.Locker{}, logs: &bytes.Buffer{},
		tp: hass.NewTopics("lockd", "n1"), now: time.Unix(1_800_000_000, 0)}
	cfg := Config{Topics: r.tp, Discovery: true, DiscoveryPrefix: "homeassistant",
		Device: hass.Device{NodeID: "n1", Name: "Door"}, RemoteUnlock: remote, Now: func() time.Time { return r.now }}
	if withPIN {
		d, err := pin.DigestWithCost(thePIN, 1000)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := pin.ParseDigest(d)
		cfg.PIN = pin.NewGuard(v, cfg.Now)
	}
	r.b = New(cfg, r.pub, r.lock, slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	r.b.lockout = time.NewTimer(time.Hour)
	t.Cleanup(func() {
		r.b.lockout.Stop()
		if strings.Contains(r.logs.String(), thePIN) {
			t.Errorf("the PIN is in the log:\n%s", r.logs)
		}
	})
	return r
}

func (r *rig) lockd(s *lockbus.Snapshot) {
	r.b.lockdUpdate(context.Background(), lockbus.Update{Snapshot: s})
}
func (r *rig) lockdGone() { r.b.lockdUpdate(context.Background(), lockbus.Update{Why: "gone"}) }
func (r *rig) brokerUp()  { r.b.brokerEvent(context.Background(), broker.Event{Up: true}) }
func (r *rig) send(topic, payload string, retained bool) {
	r.b.brokerEvent(context.Background(), broker.Event{Message: &broker.Message{Topic: topic, Payload: []byte(payload), Retained: retained}})
}

func (r *rig) last(topic string) string {
	r.t.Helper()
	p, ok := r.pub.Last(topic)
	if !ok {
		r.t.Fatalf("nothing published on %s; published: %v", topic, r.pub.All())
	}
	return p
}

func (r *rig) wantLog(s string) {
	r.t.Helper()
	if !strings.Contains(r.logs.String(), s) {
		r.t.Errorf("log lacks %q:\n%s", s, r.logs)
	}
}

func (r *rig) wantCalls(want ...string) {
	r.t.Helper()
	if got := r.lock.Calls(); !slices.Equal(got, want) {
		r.t.Errorf("lockd got %v, want %v", got, want)
	}
}

var locked = &lockbus.Snapshot{State: "locked", HasDoor: true, Provisioned: true}

func TestPublishesWhenBothAreThere(t *testing.T) {
	r := newRig(t, false, false)
	r.lockd(locked)
	if len(r.pub.All()) != 0 {
		t.Fatalf("published before the broker was up: %v", r.pub.All())
	}
	r.brokerUp()
	if got := r.last(r.tp.Availability()); got != hass.Online {
		t.Errorf("availability %q", got)
	}
	if got := r.last(r.tp.Lock()); got != hass.StateLocked {
		t.Errorf("lock state %q", got)
	}
	if _, ok := r.pub.Last("homeassistant/lock/n1/lock/config"); !ok {
		t.Error("no lock discovery")
	}
	if p, _ := r.pub.Last("homeassistant/update/n1/firmware/config"); p != "" {
		t.Errorf("update entity without Update1: %q", p)
	}
	// Only what changes goes out again.
	n := len(r.pub.All())
	r.lockd(&lockbus.Snapshot{State: "locked", HasDoor: true, DoorOpen: true, Provisioned: true})
	if got := r.pub.All()[n:]; len(got) != 1 || got[0].Topic != r.tp.Door() || got[0].Payload != hass.On {
		t.Errorf("door opening published %v, want the door alone", got)
	}
	// lockd gains Update1 (a newer lockd): the update entity appears.
	r.lockd(&lockbus.Snapshot{State: "locked", HasDoor: true, Update: &lockbus.UpdateInfo{Installed: "1.2.0"}})
	if p := r.last("homeassistant/update/n1/firmware/config"); !strings.Contains(p, `"sw_version":"1.2.0"`) {
		t.Errorf("update discovery %q", p)
	}
	// lockd goes away: offline, and back.
	r.lockdGone()
	if got := r.last(r.tp.Availability()); got != hass.Offline {
		t.Errorf("availability with lockd gone: %q", got)
	}
	r.wantLog("lockd is not reachable; availability offline")
	r.lockd(locked)
	if got := r.last(r.tp.Availability()); got != hass.Online {
		t.Errorf("availability with lockd back: %q", got)
	}
}

// TestBrokerRestartRepublishes: a new connection gets every retained
// message again (a restarted broker may have lost them all).
func TestBrokerRestartRepublishes(t *testing.T) {
	r := newRig(t, false, false)
	r.brokerUp()
	r.lockd(locked)
	r.b.lockdUpdate(context.Background(), lockbus.Update{Event: &lockbus.Event{Kind: "granted", Source: "keypad", UID: -1}})
	r.b.brokerEvent(context.Background(), broker.Event{Up: false})
	r.pub.Reset()
	r.brokerUp()
	for _, topic := range []string{"homeassistant/lock/n1/lock/config", r.tp.Lock(), r.tp.Availability(), r.tp.Event()} {
		r.last(topic)
	}
}

func TestPublishFailureIsRetried(t *testing.T) {
	r := newRig(t, false, false)
	r.brokerUp()
	r.pub.Err = errors.New("broker: not connected")
	r.lockd(locked)
	r.wantLog("publish failed")
	r.pub.Err = nil
	r.lockd(locked)
	if got := r.last(r.tp.Lock()); got != hass.StateLocked {
		t.Errorf("after a failed publish the state was not sent again: %q", got)
	}
	r.last("homeassistant/lock/n1/lock/config")
}

func TestLockoutEnds(t *testing.T) {
	r := newRig(t, false, false)
	r.brokerUp()
	r.lockd(&lockbus.Snapshot{State: "locked", LockedOutUntil: r.now.Add(30 * time.Second)})
	if got := r.last(r.tp.Lockout()); got != hass.On {
		t.Fatalf("lockout %q", got)
	}
	r.now = r.now.Add(30 * time.Second)
	r.b.publishStates(context.Background()) // what the timer does
	if got := r.last(r.tp.Lockout()); got != hass.Off {
		t.Errorf("lockout after its end %q", got)
	}
}

// TestCommands: what may and may not reach lockd.
func TestCommands(t *testing.T) {
	t.Run("remote off", func(t *testing.T) {
		r := newRig(t, false, false)
		r.brokerUp()
		r.lockd(locked)
		r.send(r.tp.Command(), "UNLOCK", false)
		r.send(r.tp.Command(), "LOCK", false)
		r.wantCalls()
		r.wantLog("refused UNLOCK: remote unlock is off")
	})
	t.Run("remote on", func(t *testing.T) {
		r := newRig(t, true, false)
		r.brokerUp()
		r.lockd(locked)
		r.send(r.tp.Command(), "UNLOCK", false)
		r.send(r.tp.Command(), `{"action":"LOCK","code":"None"}`, false)
		r.wantCalls("Unlock", "Lock")
		r.wantLog("UNLOCK sent to lockd")
	})
	t.Run("refused", func(t *testing.T) {
		r := newRig(t, true, false)
		r.brokerUp()
		r.lockd(locked)
		r.send(r.tp.Command(), "UNLOCK", true)
		r.wantLog("ignored a retained command")
		r.send(r.tp.Lock(), "UNLOCK", false)
		r.wantLog("does not act on")
		r.send(r.tp.Command(), "unlock", false)
		r.send(r.tp.Command(), strings.Repeat("U", 1<<16), false)
		r.send(r.tp.Command(), "\x00\xffUNLOCK", false)
		r.wantLog("unknown command")
		r.wantLog("command too large")
		r.lockdGone()
		r.send(r.tp.Command(), "UNLOCK", false)
		r.wantLog("refused UNLOCK: lockd is not reachable")
		r.wantCalls()
	})
	t.Run("lockd refuses", func(t *testing.T) {
		r := newRig(t, true, false)
		r.brokerUp()
		r.lockd(locked)
		r.lock.Err = errors.New("lockbus: Unlock: lockd answered org.freedesktop.DBus.Error.AccessDenied: not allowed")
		r.send(r.tp.Command(), "UNLOCK", false)
		r.wantLog("UNLOCK failed")
		r.wantLog("AccessDenied")
	})
}

func TestPIN(t *testing.T) {
	r := newRig(t, true, true)
	r.brokerUp()
	r.lockd(locked)
	if p := r.last("homeassistant/lock/n1/lock/config"); !strings.Contains(p, "code_format") {
		t.Errorf("discovery without code_format: %s", p)
	}
	r.send(r.tp.Command(), "UNLOCK", false)
	r.wantLog("no PIN, and remote.require_pin is on")
	r.send(r.tp.Command(), `{"action":"UNLOCK","code":"None"}`, false)
	r.send(r.tp.Command(), `{"action":"UNLOCK","code":"111111"}`, false)
	r.wantLog("wrong PIN")
	r.wantCalls()
	// LOCK needs no PIN, and a wrong one with it is not even checked.
	r.send(r.tp.Command(), `{"action":"LOCK","code":"222222"}`, false)
	r.wantCalls("Lock")
	r.send(r.tp.Command(), `{"action":"UNLOCK","code":"`+thePIN+`"}`, false)
	r.wantCalls("Lock", "Unlock")
	// Five wrong ones lock out; then even the right one is refused.
	for range 5 {
		r.send(r.tp.Command(), `{"action":"UNLOCK","code":"111111"}`, false)
	}
	r.wantLog("too many in a row")
	r.send(r.tp.Command(), `{"action":"UNLOCK","code":"`+thePIN+`"}`, false)
	r.wantLog("no PIN is checked until the lockout ends")
	r.wantCalls("Lock", "Unlock")
	r.now = r.now.Add(31 * time.Second)
	r.send(r.tp.Command(), `{"action":"UNLOCK","code":"`+thePIN+`"}`, false)
	r.wantCalls("Lock", "Unlock", "Unlock")
}

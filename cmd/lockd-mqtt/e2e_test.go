package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"lockd.dev/lockd/mqtt/mqtttest"
	"lockd.dev/lockd/mqtt/pin"
)

// TestE2EReadOnly: remote unlock off, lockd-mqtt in group lockd only.
// The broker is down when lockd-mqtt starts; then Home Assistant sees
// the lock, the door and events; a command is refused; lockd and the
// broker restart under it; a clean stop says offline.
func TestE2EReadOnly(t *testing.T) {
	r := newRig(t)
	conf, creds := r.config("", 0o600, "")
	r.broker.Stop(t)
	m := r.mqttd(conf, creds, r.groups.Lockd)
	m.waitLine(t, "broker: cannot connect; retrying", "connection refused")
	r.broker.Start(t)
	ha := r.broker.Sub(t, haUser, haPW, "homeassistant/#", "lockd/#")

	ha.Wait(t, 0, topic("availability"), mqtttest.Is("online"))
	l, _ := ha.Wait(t, 0, "homeassistant/lock/"+node+"/lock/config", nil)
	var cfg map[string]any
	if err := json.Unmarshal([]byte(l.Payload), &cfg); err != nil || cfg["command_topic"] != topic("lock/set") ||
		cfg["state_topic"] != topic("lock") {
		t.Fatalf("lock discovery %v: %v", cfg, err)
	}
	if _, ok := cfg["code_format"]; ok {
		t.Error("code_format without a PIN")
	}
	_, n := ha.Wait(t, 0, topic("lock"), mqtttest.Is("LOCKED"))
	ha.Wait(t, 0, topic("door"), mqtttest.Is("OFF"))

	r.sim("SetDoor", true)
	_, n = ha.Wait(t, n, topic("door"), mqtttest.Is("ON"))
	r.sim("Press", "1234#")
	l, n = ha.Wait(t, n, topic("event/attributes"), func(p string) bool { return strings.Contains(p, `"source":"keypad"`) })
	t.Logf("an event: %s", l.Payload)

	// Remote unlock is off: Home Assistant's UNLOCK is refused and logged.
	r.broker.MustPub(t, haUser, haPW, topic("lock/set"), "UNLOCK", false)
	m.waitLine(t, "refused UNLOCK: remote unlock is off")
	if s := r.lockdState(); s != "locked" {
		t.Fatalf("lockd is %s after a refused UNLOCK", s)
	}

	// lockd restarts: offline meanwhile, online again after.
	r.lockd.stop()
	_, n = ha.Wait(t, n, topic("availability"), mqtttest.Is("offline"))
	r.startLockd()
	ha.Wait(t, n, topic("availability"), mqtttest.Is("online"))

	// The broker restarts and forgets every retained message: lockd-mqtt
	// publishes them again, as a new subscriber sees.
	r.broker.Restart(t)
	m.waitLine(t, "broker: connection lost")
	m.waitLine(t, "broker: connected")
	// Availability goes out last: once it is there, so is the rest.
	r.broker.Sub(t, haUser, haPW, topic("availability")).Wait(t, 0, topic("availability"), mqtttest.Is("online"))
	fresh := r.broker.Sub(t, haUser, haPW, "homeassistant/#", "lockd/#")
	for _, want := range []struct{ topic, payload string }{{"homeassistant/lock/" + node + "/lock/config", ""},
		{topic("availability"), "online"}, {topic("lock"), "LOCKED"}, {topic("door"), "OFF"}} {
		l, _ := fresh.Wait(t, 0, want.topic, func(p string) bool { return want.payload == "" || p == want.payload })
		if !l.Retained {
			t.Errorf("%s is not retained: Home Assistant restarting would not see it", want.topic)
		}
	}

	// A clean stop: "offline", retained for whoever comes next.
	m.stop()
	if code := m.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("lockd-mqtt exited %d on SIGTERM", code)
	}
	after := r.broker.Sub(t, haUser, haPW, topic("availability"))
	if l, _ := after.Wait(t, 0, topic("availability"), nil); l.Payload != "offline" || !l.Retained {
		t.Errorf("after a clean stop: availability %+v, want offline, retained", l)
	}
}

// TestE2ERemoteUnlock: remote unlock with a PIN over TLS. A retained
// UNLOCK from before the start, a wrong PIN, a PIN-less UNLOCK, hostile
// payloads and an intruder with valid broker credentials change nothing;
// the right PIN unlocks through lockd.
func TestE2ERemoteUnlock(t *testing.T) {
	r := newRig(t)
	digest, err := pin.Digest(thePIN)
	if err != nil {
		t.Fatal(err)
	}
	conf, creds := r.config("[remote]\nunlock = true\nrequire_pin = true\n", 0o600, digest)
	cmd := topic("lock/set")
	// Left on the broker from before a restart: must never unlock.
	r.broker.MustPub(t, haUser, haPW, cmd, `{"action":"UNLOCK","code":"`+thePIN+`"}`, true)

	ha := r.broker.Sub(t, haUser, haPW, "homeassistant/#", "lockd/#")
	m := r.mqttd(conf, creds, r.groups.Lockd, r.groups.Admin)
	l, _ := ha.Wait(t, 0, "homeassistant/lock/"+node+"/lock/config", nil)
	if !strings.Contains(l.Payload, `"code_format":"^\\d{4,12}$"`) || !strings.Contains(l.Payload, "command_template") {
		t.Fatalf("lock discovery with a PIN lacks code_format or command_template: %s", l.Payload)
	}
	_, n := ha.Wait(t, 0, topic("availability"), mqtttest.Is("online"))

	// Commands are handled in order; LOCK is handled, so everything
	// before it was too.
	r.broker.MustPub(t, nosyUser, nosyPW, cmd, "UNLOCK", false) // the ACL drops it
	r.broker.MustPub(t, haUser, haPW, cmd, "UNLOCK", false)
	m.waitLine(t, "refused UNLOCK: no PIN")
	r.broker.MustPub(t, haUser, haPW, cmd, `{"action":"UNLOCK","code":"111111"}`, false)
	m.waitLine(t, "refused UNLOCK: wrong PIN")
	r.broker.MustPub(t, haUser, haPW, cmd, "\x00\xff\x01UNLOCK", false)
	r.broker.MustPub(t, haUser, haPW, cmd, `{"action":"UNLOCK","code":"`+thePIN+`","again":1}`, false)
	m.waitLine(t, "ignored a command", "unknown command")
	r.broker.MustPub(t, haUser, haPW, cmd, strings.Repeat("9", 1000), false)
	m.waitLine(t, "ignored a command", "command too large")
	// Over MaxPacket: the broker does not deliver it to lockd-mqtt at all.
	r.broker.MustPub(t, haUser, haPW, cmd, strings.Repeat("U", 64<<10), false)
	r.broker.MustPub(t, haUser, haPW, cmd, "LOCK", false)
	m.waitLine(t, "LOCK sent to lockd")
	if s := r.lockdState(); s != "locked" {
		t.Fatalf("lockd is %s before the right PIN", s)
	}
	for _, bad := range []string{"UNLOCK sent", thePIN} {
		if l := m.grep(bad); l != "" {
			t.Fatalf("log line %q before the right PIN", l)
		}
	}

	r.broker.MustPub(t, haUser, haPW, cmd, `{"action":"UNLOCK","code":"`+thePIN+`"}`, false)
	m.waitLine(t, "UNLOCK sent to lockd")
	ha.Wait(t, n, topic("lock"), mqtttest.Is("UNLOCKED"))
	if s := r.lockdState(); s != "unlocked" {
		t.Errorf("lockd is %s after the right PIN", s)
	}
	if strings.Contains(m.output(), thePIN) {
		t.Errorf("the PIN is in lockd-mqtt's log")
	}
}

// TestE2ERefusesToStart: a credentials file others can read, remote
// unlock without TLS, and remote unlock without lockd-admin each stop
// lockd-mqtt at once with a reason.
func TestE2ERefusesToStart(t *testing.T) {
	r := newRig(t)
	for _, tc := range []struct {
		name   string
		extra  string
		mode   os.FileMode
		groups []int
		want   string
	}{
		{"credentials readable by others", "", 0o644, []int{r.groups.Lockd}, "refusing to start"},
		{"credentials readable by the group", "", 0o640, []int{r.groups.Lockd}, "refusing to start"},
		{"remote unlock without lockd-admin", "[remote]\nunlock = true\n", 0o600, []int{r.groups.Lockd}, "not in group lockd-admin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf, creds := r.config(tc.extra, tc.mode, "")
			m := r.mqttd(conf, creds, tc.groups...)
			if code := m.exit(t); code != 1 || !strings.Contains(m.output(), tc.want) {
				t.Errorf("exit %d, output:\n%s\nwant exit 1 and %q", code, m.output(), tc.want)
			}
		})
	}
	t.Run("remote unlock without TLS", func(t *testing.T) {
		conf, creds := r.config("[remote]\nunlock = true\n", 0o600, "")
		b, _ := os.ReadFile(conf)
		if err := os.WriteFile(conf, []byte(strings.Replace(string(b), "mqtts://", "mqtt://", 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		m := r.mqttd(conf, creds, r.groups.Lockd, r.groups.Admin)
		if code := m.exit(t); code != 1 || !strings.Contains(m.output(), "needs TLS") {
			t.Errorf("exit %d, output:\n%s", code, m.output())
		}
	})
}

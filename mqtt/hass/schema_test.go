package hass

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"lockd.dev/lockd/mqtt/lockbus"
)

// The keys Home Assistant documents for MQTT discovery configs
// (home-assistant.io/integrations/lock.mqtt, binary_sensor.mqtt,
// sensor.mqtt, update.mqtt, and "MQTT Discovery" for device and
// origin), as of the 2025 releases. A key outside these is ignored or,
// for some entities, refused by Home Assistant's voluptuous schema: it
// means this package drifted from the documented schema.
var (
	commonKeys = []string{"availability", "availability_mode", "availability_template", "availability_topic",
		"device", "enabled_by_default", "encoding", "entity_category", "entity_picture", "icon",
		"json_attributes_template", "json_attributes_topic", "name", "object_id", "default_entity_id", "origin",
		"payload_available", "payload_not_available", "qos", "unique_id"}
	componentKeys = map[string][]string{
		"lock": {"code_format", "command_template", "command_topic", "optimistic", "payload_lock", "payload_open",
			"payload_reset", "payload_unlock", "retain", "state_jammed", "state_locked", "state_locking", "state_open",
			"state_opening", "state_topic", "state_unlocked", "state_unlocking", "value_template"},
		"binary_sensor": {"device_class", "expire_after", "force_update", "off_delay", "payload_off", "payload_on",
			"state_topic", "value_template"},
		"sensor": {"device_class", "expire_after", "force_update", "last_reset_value_template", "options",
			"suggested_display_precision", "state_class", "state_topic", "unit_of_measurement", "value_template"},
		"update": {"command_topic", "device_class", "display_precision", "latest_version_template",
			"latest_version_topic", "payload_install", "release_summary", "release_url", "retain", "state_topic",
			"title", "value_template"},
	}
	requiredKeys = map[string][]string{
		"lock":          {"command_topic"},
		"binary_sensor": {"state_topic"},
		"sensor":        {"state_topic"},
		"update":        {}, // state_topic or latest_version_topic
	}
	deviceKeys = []string{"configuration_url", "connections", "hw_version", "identifiers", "manufacturer", "model",
		"model_id", "name", "serial_number", "suggested_area", "sw_version", "via_device"}
	originKeys         = []string{"name", "sw_version", "support_url"}
	binarySensorDevice = []string{"battery", "battery_charging", "carbon_monoxide", "cold", "connectivity", "door",
		"garage_door", "gas", "heat", "light", "lock", "moisture", "motion", "moving", "occupancy", "opening", "plug",
		"power", "presence", "problem", "running", "safety", "smoke", "sound", "tamper", "update", "vibration", "window"}
	// Update's JSON state keys (update.mqtt "state_topic").
	updateStateKeys = []string{"installed_version", "latest_version", "title", "release_summary", "release_url",
		"entity_picture", "in_progress", "update_percentage"}
	// Discovery topics: <prefix>/<component>/[<node_id>/]<object_id>/config.
	topicLevel = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)
)

func everything() Features {
	return Features{Door: true, Alarms: true, OperatingMode: true, Update: true, PIN: true}
}

// configs decodes the discovery messages by component.
func configs(t *testing.T, msgs []Message) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, m := range msgs {
		parts := strings.Split(m.Topic, "/")
		if len(parts) != 5 || parts[0] != "homeassistant" || parts[4] != "config" {
			t.Fatalf("discovery topic %q is not homeassistant/<component>/<node_id>/<object_id>/config", m.Topic)
		}
		for _, p := range parts[1:4] {
			if !topicLevel.MatchString(p) {
				t.Errorf("discovery topic %q: level %q has characters Home Assistant refuses", m.Topic, p)
			}
		}
		if !m.Retain {
			t.Errorf("%s is not retained: Home Assistant would forget the entity on its restart", m.Topic)
		}
		if len(m.Payload) == 0 {
			continue
		}
		var c map[string]any
		if err := json.Unmarshal(m.Payload, &c); err != nil {
			t.Fatalf("%s: %v", m.Topic, err)
		}
		out[parts[1]+"/"+parts[3]] = c
	}
	return out
}

// TestDiscoverySchema checks every config against the documented keys
// and values.
func TestDiscoverySchema(t *testing.T) {
	tp := NewTopics("lockd", "front_door")
	cfgs := configs(t, Discovery("homeassistant", tp, Device{NodeID: "front_door", Name: "Front door", SWVersion: "2.1.0"}, everything()))
	seen := map[string]bool{}
	for name, c := range cfgs {
		component := strings.Split(name, "/")[0]
		allowed := append(slices.Clone(commonKeys), componentKeys[component]...)
		for k := range c {
			if !slices.Contains(allowed, k) {
				t.Errorf("%s: key %q is not in Home Assistant's %s.mqtt schema", name, k, component)
			}
		}
		for _, k := range append([]string{"unique_id", "availability_topic"}, requiredKeys[component]...) {
			if _, ok := c[k]; !ok {
				t.Errorf("%s: lacks %q", name, k)
			}
		}
		if u := c["unique_id"].(string); seen[u] {
			t.Errorf("%s: unique_id %q used twice", name, u)
		} else {
			seen[u] = true
		}
		dev, _ := c["device"].(map[string]any)
		if ids, _ := dev["identifiers"].([]any); len(ids) == 0 {
			t.Errorf("%s: device has no identifiers", name)
		}
		for k := range dev {
			if !slices.Contains(deviceKeys, k) {
				t.Errorf("%s: device key %q is not documented", name, k)
			}
		}
		org, _ := c["origin"].(map[string]any)
		for k := range org {
			if !slices.Contains(originKeys, k) {
				t.Errorf("%s: origin key %q is not documented", name, k)
			}
		}
		if org["name"] == nil {
			t.Errorf("%s: origin needs a name", name)
		}
		if ec, ok := c["entity_category"]; ok && ec != "diagnostic" && ec != "config" {
			t.Errorf("%s: entity_category %v", name, ec)
		}
		switch component {
		case "binary_sensor":
			if dc, ok := c["device_class"]; ok && !slices.Contains(binarySensorDevice, dc.(string)) {
				t.Errorf("%s: device_class %v is not a binary sensor class", name, dc)
			}
		case "sensor":
			if c["device_class"] == "enum" && c["options"] == nil {
				t.Errorf("%s: an enum sensor needs options", name)
			}
		case "update":
			if dc, ok := c["device_class"]; ok && dc != "firmware" {
				t.Errorf("%s: device_class %v, want firmware", name, dc)
			}
		case "lock":
			if _, err := regexp.Compile(c["code_format"].(string)); err != nil {
				t.Errorf("%s: code_format is not a regular expression: %v", name, err)
			}
			if c["optimistic"] != false {
				t.Errorf("%s: optimistic %v: Home Assistant must wait for lockd's state", name, c["optimistic"])
			}
			if c["retain"] != false {
				t.Errorf("%s: commands must never be retained (a retained UNLOCK would come back)", name)
			}
		}
	}
	for _, want := range []string{"lock/lock", "binary_sensor/door", "binary_sensor/lockout", "binary_sensor/health",
		"binary_sensor/alarm", "sensor/operating_mode", "sensor/last_event", "update/firmware"} {
		if cfgs[want] == nil {
			t.Errorf("no %s entity", want)
		}
	}
}

// TestAbsentFeatures: what this lockd lacks gets an empty retained
// config (Home Assistant removes the entity), and the PIN fields go.
func TestAbsentFeatures(t *testing.T) {
	msgs := Discovery("homeassistant", NewTopics("lockd", "n"), Device{NodeID: "n", Name: "x"}, Features{})
	cfgs := configs(t, msgs)
	for _, gone := range []string{"binary_sensor/door", "binary_sensor/alarm", "sensor/operating_mode", "update/firmware"} {
		if cfgs[gone] != nil {
			t.Errorf("%s published without its feature", gone)
		}
	}
	if len(msgs) != 8 {
		t.Errorf("%d discovery messages, want 8 (absent ones as empty payloads)", len(msgs))
	}
	lock := cfgs["lock/lock"]
	if _, ok := lock["code_format"]; ok {
		t.Error("code_format without a PIN")
	}
	if _, ok := lock["command_template"]; ok {
		t.Error("command_template without a PIN: commands would not be the plain payloads")
	}
}

// TestStatesMatchDiscovery: every state payload is one the entity's
// config accepts.
func TestStatesMatchDiscovery(t *testing.T) {
	tp := NewTopics("lockd", "n")
	cfgs := configs(t, Discovery("homeassistant", tp, Device{NodeID: "n"}, everything()))
	lock := cfgs["lock/lock"]
	lockStates := []string{}
	for _, k := range []string{"state_locked", "state_unlocked", "state_locking", "state_unlocking", "state_jammed", "state_open", "payload_reset"} {
		lockStates = append(lockStates, lock[k].(string))
	}
	now := time.Unix(1_800_000_000, 0)
	for _, s := range []lockbus.Snapshot{
		{State: "locked"}, {State: "unlocked", HasDoor: true, DoorOpen: true}, {State: "unlocked"},
		{State: "locking"}, {State: "unlocking"}, {State: "jammed"}, {State: "unknown"}, {State: "frobbed"},
		{State: "locked", HasDoor: true, LockedOutUntil: now.Add(time.Minute), Health: []string{"dbus: lost"},
			HasAlarms: true, Alarms: []string{"forced-open"}, HasOperatingMode: true, OperatingMode: "vacation",
			Update: &lockbus.UpdateInfo{Installed: "1.0.0", Pending: "2.0.0", Operation: "writing", Progress: 40, LastError: "x"}},
	} {
		for _, m := range States(tp, &s, now) {
			p := string(m.Payload)
			if !m.Retain {
				t.Errorf("%s not retained", m.Topic)
			}
			switch {
			case m.Topic == tp.Lock():
				if !slices.Contains(lockStates, p) {
					t.Errorf("lock state %q for %q is not one the lock entity accepts", p, s.State)
				}
			case m.Topic == tp.Door() || m.Topic == tp.Lockout() || m.Topic == tp.Health() || m.Topic == tp.Alarm():
				if p != On && p != Off {
					t.Errorf("%s: %q, want ON or OFF", m.Topic, p)
				}
			case m.Topic == tp.OperatingMode():
				if !slices.Contains(OperatingModes, p) {
					t.Errorf("operating mode %q is not an option", p)
				}
			case m.Topic == tp.Update():
				var st map[string]any
				if err := json.Unmarshal(m.Payload, &st); err != nil {
					t.Fatal(err)
				}
				for k := range st {
					if !slices.Contains(updateStateKeys, k) {
						t.Errorf("update state key %q is not documented", k)
					}
				}
				if st["latest_version"] != "2.0.0" || st["installed_version"] != "1.0.0" || st["in_progress"] != true {
					t.Errorf("update state %v", st)
				}
			case strings.HasSuffix(m.Topic, "/attributes"):
				var a map[string]any
				if err := json.Unmarshal(m.Payload, &a); err != nil {
					t.Errorf("%s: attributes must be a JSON object: %v", m.Topic, err)
				}
			default:
				t.Errorf("state on %s, which no entity reads", m.Topic)
			}
		}
	}
	if got := LockState(&lockbus.Snapshot{State: "unlocked", HasDoor: true, DoorOpen: true}); got != StateOpen {
		t.Errorf("unlocked with the door open: %s, want OPEN", got)
	}
}

func TestEventMessages(t *testing.T) {
	tp := NewTopics("lockd", "n")
	msgs := EventMessages(tp, &lockbus.Event{Kind: "granted", Source: "keypad", CodeID: 3, Slot: 2, UID: -1,
		Label: "cleaner", Time: time.Unix(1_800_000_000, 0)})
	var attrs map[string]any
	if err := json.Unmarshal(msgs[0].Payload, &attrs); err != nil {
		t.Fatal(err)
	}
	if attrs["label"] != "cleaner" || attrs["source"] != "keypad" || attrs["code_id"] != 3.0 || attrs["uid"] != nil ||
		attrs["time"] != "2027-01-15T08:00:00Z" {
		t.Errorf("event attributes %v", attrs)
	}
	// The attributes go first, so the state change finds them there.
	if msgs[0].Topic != Attributes(tp.Event()) || msgs[1].Topic != tp.Event() || string(msgs[1].Payload) != "granted" {
		t.Errorf("event messages %v", msgs)
	}
	long := EventMessages(tp, &lockbus.Event{Kind: strings.Repeat("é", 200)})
	if len(long[1].Payload) > 255 {
		t.Errorf("event state of %d bytes, over Home Assistant's 255", len(long[1].Payload))
	}
}

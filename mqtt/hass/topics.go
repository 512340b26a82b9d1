// Package hass is what Home Assistant sees of a lockd lock over MQTT:
// the topics, the retained discovery configs of its entities
// (discovery.go), and the payloads of their states (states.go), all
// checked against Home Assistant's documented MQTT schemas
// (schema_test.go). It only builds messages; package bridge decides when
// to send them.
package hass

// Message is one MQTT publication.
type Message struct {
	Topic   string
	Payload []byte
	Retain  bool
}

// Availability payloads (Home Assistant's defaults).
const (
	Online  = "online"
	Offline = "offline"
)

// Command payloads on the command topic (Home Assistant's defaults for
// payload_lock and payload_unlock).
const (
	PayloadLock   = "LOCK"
	PayloadUnlock = "UNLOCK"
)

// Topics are one lock's state and command topics, PREFIX/NODE/...
type Topics struct {
	base string
}

// NewTopics roots the topics at prefix/node (mqtt.topic_prefix and the
// node id, both single topic levels checked by mqttconf).
func NewTopics(prefix, node string) Topics { return Topics{base: prefix + "/" + node} }

// Availability is online/offline; the broker publishes offline as the
// will when lockd-mqtt vanishes.
func (t Topics) Availability() string { return t.base + "/availability" }

// Lock is the lock entity's state.
func (t Topics) Lock() string { return t.base + "/lock" }

// Command is the one topic lockd-mqtt acts on.
func (t Topics) Command() string { return t.base + "/lock/set" }

// Door is ON (open) or OFF (closed).
func (t Topics) Door() string { return t.base + "/door" }

// Lockout is ON during a keypad lockout.
func (t Topics) Lockout() string { return t.base + "/lockout" }

// Health is ON while lockd reports a health warning.
func (t Topics) Health() string { return t.base + "/health" }

// Alarm is ON while lockd has an active alarm.
func (t Topics) Alarm() string { return t.base + "/alarm" }

// OperatingMode is lockd's operating mode.
func (t Topics) OperatingMode() string { return t.base + "/operating_mode" }

// Event is the last event's kind.
func (t Topics) Event() string { return t.base + "/event" }

// Update is the update entity's JSON state.
func (t Topics) Update() string { return t.base + "/update" }

// Attributes is the JSON attributes topic of a state topic.
func Attributes(state string) string { return state + "/attributes" }

package hass

import (
	"encoding/json"

	"lockd.dev/lockd/mqtt/pin"
)

// Device is the lock as a Home Assistant device.
type Device struct {
	NodeID    string // unique per lock; the discovery node_id
	Name      string
	SWVersion string // the installed version, when known
}

// Features are what this lockd and this configuration offer; an entity
// whose feature is missing gets an empty retained config, which removes
// it from Home Assistant.
type Features struct {
	Door          bool // lockd has a door sensor (HasDoor)
	Alarms        bool // lockd has the Alarms property
	OperatingMode bool // lockd has the OperatingMode property
	Update        bool // lockd exports io.lockd.Update1
	PIN           bool // UNLOCK must carry the PIN (remote.require_pin)
}

// OperatingModes are the values of lockd's OperatingMode (DESIGN.md).
var OperatingModes = []string{"normal", "vacation", "privacy", "passage", "no-remote"}

// Discovery returns the retained config of every entity under prefix
// (homeassistant.prefix): PREFIX/COMPONENT/NODE/OBJECT/config.
func Discovery(prefix string, t Topics, d Device, f Features) []Message {
	dev := map[string]any{
		"identifiers":  []string{d.NodeID},
		"name":         d.Name,
		"manufacturer": "lockd",
		"model":        "lockd keypad lock",
	}
	if d.SWVersion != "" {
		dev["sw_version"] = d.SWVersion
	}
	var out []Message
	add := func(component, object string, present bool, cfg map[string]any) {
		m := Message{Topic: prefix + "/" + component + "/" + d.NodeID + "/" + object + "/config", Retain: true}
		if present {
			cfg["unique_id"] = d.NodeID + "_" + object
			cfg["device"] = dev
			cfg["origin"] = map[string]any{"name": "lockd-mqtt"}
			cfg["availability_topic"] = t.Availability()
			cfg["payload_available"] = Online
			cfg["payload_not_available"] = Offline
			m.Payload, _ = json.Marshal(cfg) // maps of strings, bools and lists: cannot fail
		}
		out = append(out, m)
	}

	lock := map[string]any{
		"name":          nil, // the device's name is the lock's
		"state_topic":   t.Lock(),
		"command_topic": t.Command(),
		"payload_lock":  PayloadLock, "payload_unlock": PayloadUnlock,
		"state_locked": StateLocked, "state_unlocked": StateUnlocked,
		"state_locking": StateLocking, "state_unlocking": StateUnlocking,
		"state_jammed": StateJammed, "state_open": StateOpen,
		"payload_reset": StateUnknown,
		"optimistic":    false,
		"retain":        false,
		"qos":           0,
	}
	if f.PIN {
		lock["code_format"] = pin.CodeFormat
		// The code travels with the action; lockd-mqtt's parser reads
		// exactly this shape (command.go in package bridge).
		lock["command_template"] = `{"action":"{{ value }}","code":"{{ code }}"}`
	}
	add("lock", "lock", true, lock)
	add("binary_sensor", "door", f.Door, map[string]any{
		"name": "Door", "device_class": "door", "state_topic": t.Door(),
		"payload_on": On, "payload_off": Off,
	})
	add("binary_sensor", "lockout", true, map[string]any{
		"name": "Keypad lockout", "icon": "mdi:timer-lock", "state_topic": t.Lockout(),
		"payload_on": On, "payload_off": Off, "json_attributes_topic": Attributes(t.Lockout()),
	})
	add("binary_sensor", "health", true, map[string]any{
		"name": "Health", "device_class": "problem", "entity_category": "diagnostic",
		"state_topic": t.Health(), "payload_on": On, "payload_off": Off,
		"json_attributes_topic": Attributes(t.Health()),
	})
	add("binary_sensor", "alarm", f.Alarms, map[string]any{
		"name": "Alarm", "device_class": "safety", "state_topic": t.Alarm(),
		"payload_on": On, "payload_off": Off, "json_attributes_topic": Attributes(t.Alarm()),
	})
	add("sensor", "operating_mode", f.OperatingMode, map[string]any{
		"name": "Operating mode", "device_class": "enum", "options": OperatingModes,
		"icon": "mdi:shield-lock", "state_topic": t.OperatingMode(),
	})
	add("sensor", "last_event", true, map[string]any{
		"name": "Last event", "icon": "mdi:history", "state_topic": t.Event(),
		"json_attributes_topic": Attributes(t.Event()),
	})
	add("update", "firmware", f.Update, map[string]any{
		"name": "Firmware", "device_class": "firmware", "state_topic": t.Update(),
		"entity_category": "diagnostic",
	})
	return out
}

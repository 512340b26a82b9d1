package mqttconf

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
)

// machineIDFile is where the default node id comes from; a variable for
// tests.
var machineIDFile = "/etc/machine-id"

// NodeID returns homeassistant.node_id, or one derived from the machine
// id: stable across restarts and reinstalls of lockd-mqtt, the same
// machine always the same lock in Home Assistant. The machine id itself
// never leaves the lock (machine-id(5) asks for that): what is published
// is a keyed hash of it, as sd_id128_get_machine_app_specific does.
func (c *Config) NodeID() (string, error) {
	if c.HomeAssistant.NodeID != "" {
		return c.HomeAssistant.NodeID, nil
	}
	b, err := os.ReadFile(machineIDFile)
	id := strings.TrimSpace(string(b))
	if err != nil || id == "" {
		return "", fmt.Errorf("mqttconf: no homeassistant.node_id and no machine id to derive one from (%s): set node_id", machineIDFile)
	}
	m := hmac.New(sha256.New, []byte(id))
	m.Write([]byte("lockd-mqtt node id"))
	return "lockd_" + hex.EncodeToString(m.Sum(nil))[:12], nil
}

// ClientIDFor returns mqtt.client_id, or "lockd-" + node.
func (c *Config) ClientIDFor(node string) string {
	if c.MQTT.ClientID != "" {
		return c.MQTT.ClientID
	}
	return "lockd-" + node
}

// Package mqtt is the home of lockd-mqtt's packages (cmd/lockd-mqtt): the
// bridge between lockd, which it reaches only over D-Bus, and an MQTT
// broker with Home Assistant's discovery. lockd itself never touches the
// network (PrivateNetwork=yes); everything that does lives under here.
//
//   - mqttconf: /etc/lockd/mqtt.toml and the root-only credentials file
//   - pin: the remote-unlock PIN's digest and the wrong-PIN lockout
//   - hass: Home Assistant discovery payloads, topics and state payloads
//   - lockbus: lockd's state, events and Lock/Unlock over D-Bus
//   - broker: the MQTT connection (TLS, credentials, will, reconnects)
//   - bridge: what is published when, and what a command may do
//   - mqtttest: Debian's mosquitto, started by tests with TLS and ACLs
package mqtt

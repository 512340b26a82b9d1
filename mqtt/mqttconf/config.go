// Package mqttconf owns lockd-mqtt's configuration: /etc/lockd/mqtt.toml
// (systemd/mqtt.toml is the annotated reference), decoded strictly, and
// the root-only credentials file it names (credentials.go). It decides
// what a configuration may not do, above all that remote unlock never
// runs without TLS and credentials.
package mqttconf

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Config is mqtt.toml. The TOML keys are a contract (docs/DESIGN.md).
type Config struct {
	Lockd         Lockd         `toml:"lockd"`
	MQTT          MQTT          `toml:"mqtt"`
	HomeAssistant HomeAssistant `toml:"homeassistant"`
	Remote        Remote        `toml:"remote"`
}

// Lockd is how lockd-mqtt reaches lockd.
type Lockd struct {
	// Bus: system, session or a D-Bus address.
	Bus string `toml:"bus"`
}

// MQTT is the broker connection.
type MQTT struct {
	// Broker is mqtts://HOST:PORT (TLS) or mqtt://HOST:PORT (plain TCP,
	// refused with remote unlock on).
	Broker string `toml:"broker"`
	// CAFile is the PEM of the CA that signed the broker's certificate;
	// empty: the system's roots.
	CAFile string `toml:"ca_file"`
	// CredentialsFile holds username and password (and the PIN digest);
	// it must be root's and closed to group and others.
	CredentialsFile string `toml:"credentials_file"`
	// ClientID; empty: "lockd-" + the node id.
	ClientID string `toml:"client_id"`
	// KeepAlive in seconds.
	KeepAlive int `toml:"keepalive"`
	// TopicPrefix roots the state and command topics:
	// PREFIX/NODE_ID/...
	TopicPrefix string `toml:"topic_prefix"`
}

// HomeAssistant is MQTT discovery.
type HomeAssistant struct {
	// Discovery publishes the retained discovery configs; off, only
	// the state topics are published.
	Discovery bool `toml:"discovery"`
	// Prefix is Home Assistant's discovery prefix.
	Prefix string `toml:"prefix"`
	// NodeID names this lock in topics and unique ids; empty: derived
	// from /etc/machine-id (node.go).
	NodeID string `toml:"node_id"`
	// Name is the device's name in Home Assistant.
	Name string `toml:"name"`
}

// Remote is what the broker may make lockd do.
type Remote struct {
	// Unlock lets the command topic lock and unlock the door, through
	// lockd's own Lock and Unlock (the unit then needs lockd-admin).
	Unlock bool `toml:"unlock"`
	// RequirePIN: UNLOCK must carry the PIN whose digest is the
	// credentials file's pin_digest.
	RequirePIN bool `toml:"require_pin"`
}

// Path is the default configuration file.
const Path = "/etc/lockd/mqtt.toml"

// Default is the configuration before the file is read.
func Default() Config {
	return Config{
		Lockd: Lockd{Bus: "system"},
		MQTT: MQTT{CredentialsFile: "/etc/lockd/mqtt-credentials", KeepAlive: 30,
			TopicPrefix: "lockd"},
		HomeAssistant: HomeAssistant{Discovery: true, Prefix: "homeassistant", Name: "Door lock"},
	}
}

// Load reads the file at path on top of Default and checks it.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Config{}, fmt.Errorf("mqttconf: %s: %w: copy the annotated reference systemd/mqtt.toml there "+
			"(make install does) or name another with --config FILE", path, fs.ErrNotExist)
	}
	if err != nil {
		return Config{}, fmt.Errorf("mqttconf: %w", err)
	}
	return Parse(path, b)
}

// Parse decodes b (named path in errors) on top of Default and checks it.
func Parse(path string, b []byte) (Config, error) {
	c := Default()
	dec := toml.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, decodeError(path, err)
	}
	if err := c.Check(); err != nil {
		return Config{}, fmt.Errorf("mqttconf: %s: %w", path, err)
	}
	return c, nil
}

func decodeError(path string, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) && len(strict.Errors) > 0 {
		var lines []string
		for _, e := range strict.Errors {
			row, _ := e.Position()
			lines = append(lines, fmt.Sprintf("%s:%d: unknown key %q", path, row, strings.Join(e.Key(), ".")))
		}
		return fmt.Errorf("mqttconf: %s", strings.Join(lines, "; "))
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		if key := strings.Join(de.Key(), "."); key != "" {
			return fmt.Errorf("mqttconf: %s:%d: key %q: %s", path, row, key, strings.TrimPrefix(de.Error(), "toml: "))
		}
		return fmt.Errorf("mqttconf: %s:%d: %s", path, row, strings.TrimPrefix(de.Error(), "toml: "))
	}
	return fmt.Errorf("mqttconf: %s: %w", path, err)
}

// topicWord is one level of a topic lockd-mqtt builds: no wildcards, no
// separators, nothing Home Assistant's node_id refuses.
var topicWord = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Check refuses what decodes but must not run.
func (c *Config) Check() error {
	u, err := c.BrokerURL()
	if err != nil {
		return err
	}
	if c.MQTT.KeepAlive < 5 || c.MQTT.KeepAlive > 3600 {
		return fmt.Errorf("mqtt.keepalive = %d: want 5..3600 seconds", c.MQTT.KeepAlive)
	}
	for _, w := range []struct{ key, v string }{{"mqtt.topic_prefix", c.MQTT.TopicPrefix},
		{"homeassistant.prefix", c.HomeAssistant.Prefix}} {
		if !topicWord.MatchString(w.v) {
			return fmt.Errorf("%s = %q: want 1-64 letters, digits, _ or -", w.key, w.v)
		}
	}
	if c.HomeAssistant.NodeID != "" && !topicWord.MatchString(c.HomeAssistant.NodeID) {
		return fmt.Errorf("homeassistant.node_id = %q: want 1-64 letters, digits, _ or -", c.HomeAssistant.NodeID)
	}
	if c.MQTT.CredentialsFile == "" {
		return errors.New("mqtt.credentials_file is empty: lockd-mqtt always logs in to the broker")
	}
	if c.Remote.RequirePIN && !c.Remote.Unlock {
		return errors.New("remote.require_pin = true without remote.unlock = true: there is nothing to protect with it")
	}
	if c.Remote.Unlock && u.Scheme != "mqtts" {
		return fmt.Errorf("remote.unlock = true needs TLS to the broker: mqtt.broker = %q must be mqtts://HOST:PORT", c.MQTT.Broker)
	}
	return nil
}

// BrokerURL parses mqtt.broker: mqtt:// or mqtts://, a host and a port.
func (c *Config) BrokerURL() (*url.URL, error) {
	if c.MQTT.Broker == "" {
		return nil, errors.New("mqtt.broker is empty: want mqtts://HOST:PORT (or mqtt://HOST:PORT without TLS)")
	}
	u, err := url.Parse(c.MQTT.Broker)
	if err != nil || (u.Scheme != "mqtt" && u.Scheme != "mqtts") || u.Hostname() == "" || u.Port() == "" ||
		(u.Path != "" && u.Path != "/") || u.User != nil || u.RawQuery != "" {
		return nil, fmt.Errorf("mqtt.broker = %q: want mqtts://HOST:PORT or mqtt://HOST:PORT (no user, path or query)", c.MQTT.Broker)
	}
	return u, nil
}

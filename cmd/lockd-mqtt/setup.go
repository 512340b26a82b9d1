package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"os/user"
	"slices"
	"strconv"

	"lockd.dev/lockd/mqtt/bridge"
	"lockd.dev/lockd/mqtt/broker"
	"lockd.dev/lockd/mqtt/hass"
	"lockd.dev/lockd/mqtt/mqttconf"
	"lockd.dev/lockd/mqtt/pin"
)

// setup is everything run wires, decided before anything connects, so
// that a configuration that must not run stops lockd-mqtt at once.
type setup struct {
	bus     string
	broker  broker.Config
	bridge  bridge.Config
	warning string
}

// adminGroup is the group lockd lets call Lock and Unlock.
const adminGroup = "lockd-admin"

func setUp(configPath, busFlag string) (setup, error) {
	cfg, err := mqttconf.Load(configPath)
	if err != nil {
		return setup{}, err
	}
	creds, err := mqttconf.LoadCredentials(cfg.MQTT.CredentialsFile, os.Getenv("CREDENTIALS_DIRECTORY"))
	if err != nil {
		return setup{}, err
	}
	node, err := cfg.NodeID()
	if err != nil {
		return setup{}, err
	}
	u, err := cfg.BrokerURL()
	if err != nil {
		return setup{}, fmt.Errorf("mqttconf: %w", err)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.MQTT.CAFile != "" {
		pem, err := os.ReadFile(cfg.MQTT.CAFile)
		if err != nil {
			return setup{}, fmt.Errorf("mqtt.ca_file: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return setup{}, fmt.Errorf("mqtt.ca_file: %s holds no PEM certificate", cfg.MQTT.CAFile)
		}
	}
	topics := hass.NewTopics(cfg.MQTT.TopicPrefix, node)
	willTopic, willPayload := availabilityWill(topics)
	s := setup{
		bus: cfg.Lockd.Bus,
		broker: broker.Config{URL: u, TLS: tc, ClientID: cfg.ClientIDFor(node), Username: creds.Username,
			Password: creds.Password, KeepAlive: uint16(cfg.MQTT.KeepAlive), WillTopic: willTopic, WillPayload: willPayload,
			Subscribe: []string{topics.Command()}},
		bridge: bridge.Config{Topics: topics, Discovery: cfg.HomeAssistant.Discovery, DiscoveryPrefix: cfg.HomeAssistant.Prefix,
			Device: hass.Device{NodeID: node, Name: cfg.HomeAssistant.Name}, RemoteUnlock: cfg.Remote.Unlock, Now: now},
	}
	if busFlag != "" {
		s.bus = busFlag
	}
	if cfg.Remote.RequirePIN {
		if creds.PINDigest == "" {
			return setup{}, fmt.Errorf("remote.require_pin = true but %s has no pin_digest (make one with lockd-mqtt pin-digest)", cfg.MQTT.CredentialsFile)
		}
		v, err := pin.ParseDigest(creds.PINDigest)
		if err != nil {
			return setup{}, err
		}
		s.bridge.PIN = pin.NewGuard(v, now)
	}
	admin, err := inAdminGroup()
	switch {
	case err != nil && cfg.Remote.Unlock:
		return setup{}, err
	case cfg.Remote.Unlock && !admin:
		return setup{}, errors.New("remote.unlock = true, but lockd-mqtt is not in group " + adminGroup +
			", so lockd would refuse every Lock and Unlock: add SupplementaryGroups=lockd lockd-admin to the unit " +
			"(systemctl edit lockd-mqtt; README \"Home Assistant\")")
	case !cfg.Remote.Unlock && admin && os.Geteuid() != 0:
		s.warning = "lockd-mqtt: it runs in group " + adminGroup + " though remote.unlock is off: it needs only group lockd"
	}
	return s, nil
}

// inAdminGroup reports whether this process may call lockd's methods:
// root, or a member of lockd-admin.
func inAdminGroup() (bool, error) {
	if os.Geteuid() == 0 {
		return true, nil
	}
	g, err := user.LookupGroup(adminGroup)
	if err != nil {
		return false, fmt.Errorf("group %s: %w (lockd.sysusers creates it)", adminGroup, err)
	}
	gid, _ := strconv.Atoi(g.Gid)
	groups, err := os.Getgroups()
	if err != nil {
		return false, err
	}
	return slices.Contains(groups, gid) || os.Getegid() == gid, nil
}

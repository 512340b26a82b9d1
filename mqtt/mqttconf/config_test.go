package mqttconf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lockd.dev/lockd/internal/testtool"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, file, wantErr string
	}{
		{"minimal", "[mqtt]\nbroker = \"mqtt://127.0.0.1:1883\"\n", ""},
		{"remote over TLS", "[mqtt]\nbroker = \"mqtts://127.0.0.1:8883\"\n[remote]\nunlock = true\nrequire_pin = true\n", ""},
		{"no broker", "", "mqtt.broker is empty"},
		{"unknown key", "[mqtt]\nbroker = \"mqtt://h:1\"\nbrokr = 1\n", `x.toml:3: unknown key "mqtt.brokr"`},
		{"wrong type", "[remote]\nunlock = \"yes\"\n", `key "remote.unlock"`},
		{"bad scheme", "[mqtt]\nbroker = \"tcp://h:1883\"\n", "want mqtts://HOST:PORT"},
		{"no port", "[mqtt]\nbroker = \"mqtts://h\"\n", "want mqtts://HOST:PORT"},
		{"user in url", "[mqtt]\nbroker = \"mqtts://u:p@h:1\"\n", "no user"},
		{"remote without TLS", "[mqtt]\nbroker = \"mqtt://h:1883\"\n[remote]\nunlock = true\n", "remote.unlock = true needs TLS"},
		{"pin without remote", "[mqtt]\nbroker = \"mqtts://h:1\"\n[remote]\nrequire_pin = true\n", "nothing to protect"},
		{"wildcard prefix", "[mqtt]\nbroker = \"mqtt://h:1\"\ntopic_prefix = \"a/#\"\n", "mqtt.topic_prefix"},
		{"bad node id", "[mqtt]\nbroker = \"mqtt://h:1\"\n[homeassistant]\nnode_id = \"a b\"\n", "node_id"},
		{"no credentials", "[mqtt]\nbroker = \"mqtt://h:1\"\ncredentials_file = \"\"\n", "credentials_file is empty"},
		{"keepalive", "[mqtt]\nbroker = \"mqtt://h:1\"\nkeepalive = 0\n", "keepalive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.toml", []byte(tc.file))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			case err != nil && !strings.HasPrefix(err.Error(), "mqttconf: "):
				t.Errorf("error %q does not start with the package name", err)
			}
		})
	}
}

// TestReference: the shipped systemd/mqtt.toml loads, with remote unlock
// off: a fresh install never accepts commands.
func TestReference(t *testing.T) {
	c, err := Load("../../systemd/mqtt.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Remote.Unlock {
		t.Error("systemd/mqtt.toml turns remote unlock on; it must ship off")
	}
	if c.HomeAssistant.Prefix != "homeassistant" || !c.HomeAssistant.Discovery {
		t.Errorf("systemd/mqtt.toml: discovery %v under %q, want on under homeassistant", c.HomeAssistant.Discovery, c.HomeAssistant.Prefix)
	}
	if c.MQTT.CredentialsFile != "/etc/lockd/mqtt-credentials" {
		t.Errorf("credentials_file %q, want the unit's LoadCredential= source /etc/lockd/mqtt-credentials", c.MQTT.CredentialsFile)
	}
}

func TestNodeID(t *testing.T) {
	dir := t.TempDir()
	machineIDFile = filepath.Join(dir, "machine-id")
	t.Cleanup(func() { machineIDFile = "/etc/machine-id" })
	c := Default()
	if _, err := c.NodeID(); err == nil {
		t.Fatal("a node id without a machine id")
	}
	const mid = "0123456789abcdef0123456789abcdef"
	if err := os.WriteFile(machineIDFile, []byte(mid+"\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	id, err := c.NodeID()
	if err != nil || !topicWord.MatchString(id) || strings.Contains(id, mid[:12]) {
		t.Fatalf("NodeID %q, %v: want a topic word that is not the machine id", id, err)
	}
	if again, _ := c.NodeID(); again != id {
		t.Errorf("NodeID not stable: %q then %q", id, again)
	}
	c.HomeAssistant.NodeID = "front_door"
	if id, _ := c.NodeID(); id != "front_door" || c.ClientIDFor(id) != "lockd-front_door" {
		t.Errorf("configured node id: %q, client id %q", id, c.ClientIDFor(id))
	}
}

func TestLoadCredentials(t *testing.T) {
	testtool.NeedRoot(t, "the credentials file must be root's: this test creates one")
	dir := t.TempDir()
	path := filepath.Join(dir, "creds")
	write := func(body string, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	const good = "username = \"lock\"\npassword = \"s3cret-pw\"\n"
	write(good, 0o600)
	c, err := LoadCredentials(path, "")
	if err != nil || c.Username != "lock" || c.Password != "s3cret-pw" {
		t.Fatalf("LoadCredentials: %+v %v", c, err)
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		write(good, mode)
		if _, err := LoadCredentials(path, ""); err == nil || !strings.Contains(err.Error(), "refusing to start") {
			t.Errorf("mode %04o: %v, want a refusal", mode, err)
		}
	}
	if err := os.Chown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	write(good, 0o600)
	if _, err := LoadCredentials(path, ""); err == nil {
		t.Error("a file owned by nobody was accepted")
	}
	if err := os.Chown(path, 0, 0); err != nil {
		t.Fatal(err)
	}
	// A bad file is refused without echoing it.
	write("username = \"lock\"\npassword = s3cret-pw\n", 0o600)
	if _, err := LoadCredentials(path, ""); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("broken TOML: %v, want a refusal that does not quote the file", err)
	}
	write("username = \"lock\"\n", 0o600)
	if _, err := LoadCredentials(path, ""); err == nil {
		t.Error("no password accepted")
	}
	// systemd's copy wins over the original, whose mode is still checked.
	write(good, 0o600)
	creds := filepath.Join(dir, "creds.d")
	if err := os.Mkdir(creds, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(creds, CredentialName), []byte("username = \"copy\"\npassword = \"x\"\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	if c, err := LoadCredentials(path, creds); err != nil || c.Username != "copy" {
		t.Errorf("with $CREDENTIALS_DIRECTORY: %+v %v, want the copy", c, err)
	}
	if _, err := LoadCredentials(filepath.Join(dir, "missing"), creds); err == nil {
		t.Error("a missing original was accepted because a copy exists")
	}
}

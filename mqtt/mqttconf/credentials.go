package mqttconf

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/pelletier/go-toml/v2"

	"lockd.dev/lockd/internal/credfile"
)

// Credentials is the credentials file: the broker login and the remote
// unlock PIN's digest (lockd-mqtt pin-digest makes the line).
type Credentials struct {
	Username  string `toml:"username"`
	Password  string `toml:"password"`
	PINDigest string `toml:"pin_digest"`
}

// CredentialName is the credential lockd-mqtt.service loads the file as
// (LoadCredential=): systemd reads the root-only file and hands the
// unprivileged service a private copy under $CREDENTIALS_DIRECTORY.
const CredentialName = "mqtt-credentials"

// LoadCredentials checks that path is root's and closed to group and
// others, then reads it: from $CREDENTIALS_DIRECTORY when systemd passed
// it in (the unit runs as lockd-mqtt, which cannot read the original),
// else from path itself. credsDir is $CREDENTIALS_DIRECTORY.
//
// The check is on the original even when the copy is read: a file others
// can read has leaked the broker password and the PIN digest already,
// and lockd-mqtt refuses to pretend otherwise.
func LoadCredentials(path, credsDir string) (Credentials, error) {
	b, err := credfile.Read(path, credsDir, CredentialName)
	switch {
	case credfile.IsNotExist(err):
		return Credentials{}, fmt.Errorf("mqttconf: credentials: %w (create it: install -m 0600 -o root /dev/null %s, then add username and password)", err, path)
	case err != nil:
		return Credentials{}, fmt.Errorf("mqttconf: credentials: %w; refusing to start", err)
	}
	var c Credentials
	dec := toml.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		// Never echo the file: go-toml's messages quote the line.
		var strict *toml.StrictMissingError
		if errors.As(err, &strict) {
			return Credentials{}, fmt.Errorf("mqttconf: credentials: %s: unknown key; want username, password and pin_digest", path)
		}
		return Credentials{}, fmt.Errorf("mqttconf: credentials: %s is not TOML of username, password and pin_digest", path)
	}
	if c.Username == "" || c.Password == "" {
		return Credentials{}, fmt.Errorf("mqttconf: credentials: %s: username and password are required", path)
	}
	return c, nil
}

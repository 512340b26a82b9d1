package hawkbit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"lockd.dev/lockd/internal/credfile"
)

// TokenCredential is the name lockd.service loads the token file as
// (LoadCredential=): systemd reads the root-only file and hands lockd,
// which runs as user lockd, a private copy under $CREDENTIALS_DIRECTORY.
const TokenCredential = "hawkbit-token"

// ReadToken checks that path is root's and closed to group and others,
// then reads the token from the copy under credsDir ($CREDENTIALS_DIRECTORY)
// when there is one, else from path; it returns the Authorization header:
// the file's one line when it starts with "TargetToken " or
// "GatewayToken ", else "TargetToken " and the line. The token is never
// in an error.
func ReadToken(path, credsDir string) (string, error) {
	b, err := credfile.Read(path, credsDir, TokenCredential)
	if err != nil {
		return "", fmt.Errorf("hawkbit: token_file: %w", err)
	}
	line := strings.TrimSpace(string(b))
	if line == "" || len(line) > 1024 || strings.ContainsAny(line, "\r\n") {
		return "", fmt.Errorf("hawkbit: token_file %s: want one line, the target or gateway token", path)
	}
	if strings.HasPrefix(line, "TargetToken ") || strings.HasPrefix(line, "GatewayToken ") {
		return line, nil
	}
	if strings.ContainsAny(line, " \t") {
		return "", fmt.Errorf("hawkbit: token_file %s: want a token, or TargetToken or GatewayToken and the token", path)
	}
	return "TargetToken " + line, nil
}

// ControllerID is a unit's default controller id: "lockd-" and 16 hex
// digits of an HMAC of a fixed label under the device key, so it is
// stable for the unit's life, differs between units, and tells nothing of
// the key.
func ControllerID(deviceKey []byte) string {
	m := hmac.New(sha256.New, deviceKey)
	m.Write([]byte("lockd hawkbit controller id"))
	return "lockd-" + hex.EncodeToString(m.Sum(nil)[:8])
}

package hawkbit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("hawkbit: token_file: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || !fi.Mode().IsRegular() {
		return "", fmt.Errorf("hawkbit: token_file %s is not a regular file", path)
	}
	if st.Uid != 0 || fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("hawkbit: token_file %s is owner %d mode %04o: it must be root's and readable by root only (chown root %s; chmod 0600 %s)",
			path, st.Uid, fi.Mode().Perm(), path, path)
	}
	read := path
	if credsDir != "" {
		if p := filepath.Join(credsDir, TokenCredential); fileExists(p) {
			read = p
		}
	}
	b, err := os.ReadFile(read)
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

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
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

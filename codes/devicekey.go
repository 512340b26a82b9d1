package codes

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DeviceKeySize is the length of the device key in bytes.
const DeviceKeySize = 32

// SetupDigits is the length of the setup code.
const SetupDigits = 8

// noKeyError says exactly what to run.
func noKeyError(path, dir, why string) error {
	return fmt.Errorf("codes: %w at %s (%s): run `lockd factory-init --state-dir %s` once to create this unit's secrets",
		ErrNoDeviceKey, path, why, shellQuote(dir))
}

// readDeviceKey reads the key and reports whether its file is readable by
// anyone but its owner.
func readDeviceKey(path, dir string) (key []byte, loose bool, err error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, noKeyError(path, dir, "missing")
	}
	if err != nil {
		return nil, false, fmt.Errorf("codes: device key: %w", err)
	}
	key, err = os.ReadFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("codes: device key: %w", err)
	}
	if len(key) != DeviceKeySize {
		return nil, false, noKeyError(path, dir, fmt.Sprintf("%d bytes, want %d; with --force", len(key), DeviceKeySize))
	}
	return key, fi.Mode().Perm()&0o077 != 0, nil
}

// The setup digest file is the key id (8 bytes) then the digest (32).
func setupFile(keyID, digest []byte) []byte { return append(bytes.Clone(keyID), digest...) }

// readSetupDigest returns the setup code digest, or nil and why not.
func readSetupDigest(path string, keyID []byte) ([]byte, string) {
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, "no setup code digest " + path
	case err != nil:
		return nil, err.Error()
	case len(b) != 8+32:
		return nil, path + " has the wrong size"
	case !hmac.Equal(b[:8], keyID):
		return nil, path + " belongs to another device key (interrupted factory-init --force?)"
	}
	return b[8:], ""
}

// FactoryInit creates this unit's secrets in dir: a random 32-byte device
// key (DIR/device.key, mode 0600) and a random 8-digit setup code, of
// which only a keyed digest is kept (DIR/setup.digest). It returns the
// setup code to print on the unit's label once; it is stored nowhere.
//
// A dir that already has a device key is refused with ErrInitialised
// unless force is set. Force is a factory reset: a new key makes every
// stored code unusable, so the old database (and its WAL) is moved aside
// first and the next Open starts unprovisioned. Run it with lockd stopped.
func FactoryInit(dir string, force bool) (setupCode string, err error) {
	return FactoryInitAs(dir, force, NoOwner)
}

// Owner is who a file FactoryInitAs writes belongs to.
type Owner struct{ UID, GID int }

// NoOwner leaves new files to whoever runs FactoryInitAs.
var NoOwner = Owner{UID: -1, GID: -1}

// FactoryInitAs is FactoryInit whose files (still mode 0600) belong to
// owner: run as root at the factory, it hands them to the user lockd runs
// as, who could not read them otherwise. Each file gets its owner before it
// is renamed into place, so an interrupted run never leaves a key only
// root can read.
func FactoryInitAs(dir string, force bool, owner Owner) (setupCode string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("codes: factory-init: %w", err)
	}
	keyPath := filepath.Join(dir, DeviceKeyName)
	if exists(keyPath) && !force {
		return "", fmt.Errorf("codes: factory-init: %s exists: %w (--force replaces it and makes every stored code unusable)", keyPath, ErrInitialised)
	}
	key := make([]byte, DeviceKeySize)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("codes: factory-init: %w", err)
	}
	var code string
	for code == "" || CheckRule(code, KindAdmin) != nil {
		if code, err = randomDigits(SetupDigits); err != nil {
			return "", fmt.Errorf("codes: factory-init: %w", err)
		}
	}
	if force {
		dbPath := filepath.Join(dir, DBName)
		if exists(dbPath) || exists(dbPath+"-wal") {
			if _, err := moveAside(dbPath, "reset", time.Now()); err != nil {
				return "", fmt.Errorf("codes: factory-init: %w", err)
			}
		}
	}
	d := newDigester(key)
	// The digest file goes first and names its key: the key file is the
	// commit point, and a digest left from an interrupted run is recognised
	// as belonging to another key.
	if err := writeFileAtomicAs(filepath.Join(dir, SetupDigestName), setupFile(d.keyID(), d.setup(code)), 0o600, owner); err != nil {
		return "", err
	}
	if err := writeFileAtomicAs(keyPath, key, 0o600, owner); err != nil {
		return "", err
	}
	return code, nil
}

// randomDigits returns n (at most 18) uniformly random decimal digits:
// rand.Int draws below 10^n by rejection, so there is no modulo bias.
func randomDigits(n int) (string, error) {
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
	v, err := rand.Int(rand.Reader, limit)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%0*d", n, v.Int64()), nil
}

// FormatSetupLabel groups a code in fours for reading: "1234 5678".
func FormatSetupLabel(code string) string {
	var b strings.Builder
	for i := 0; i < len(code); i++ {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteByte(code[i])
	}
	return b.String()
}

// shellQuote quotes s for a shell command line when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Package pin owns the remote-unlock PIN of lockd-mqtt: its digest (the
// credentials file keeps pin_digest, never the digits) and the guard
// that refuses every PIN for a while after wrong ones (guard.go). A PIN
// is never logged and never part of an error.
package pin

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// CodeFormat is the PIN's form, as Home Assistant's code_format (a
// regular expression it checks before it sends a command).
const CodeFormat = `^\d{4,12}$`

var codeFormat = regexp.MustCompile(CodeFormat)

// Iterations of PBKDF2-SHA256. The file is root-only, so the digest
// guards against a glance rather than a search (a short PIN falls to
// one anyway); it is kept at a cost a Pi pays in about 0.1 s, because
// every UNLOCK with a PIN pays it.
const Iterations = 100_000

const (
	scheme        = "pbkdf2-sha256"
	minIterations = 1000
)

// ErrFormat: a PIN that is not 4 to 12 digits.
var ErrFormat = errors.New("pin: a PIN is 4 to 12 digits")

// Digest returns pin_digest for pin: pbkdf2-sha256$ITER$SALT$KEY.
func Digest(pin string) (string, error) { return DigestWithCost(pin, Iterations) }

// DigestWithCost is Digest with another iteration count (1000 or more):
// tests use the least, so a -race run does not spend seconds hashing.
func DigestWithCost(pin string, iterations int) (string, error) {
	if iterations < minIterations {
		return "", fmt.Errorf("pin: %d iterations, fewer than %d", iterations, minIterations)
	}
	if !codeFormat.MatchString(pin) {
		return "", ErrFormat
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("pin: salt: %w", err)
	}
	key, err := pbkdf2.Key(sha256.New, pin, salt, iterations, 32)
	if err != nil {
		return "", fmt.Errorf("pin: %w", err)
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("%s$%d$%s$%s", scheme, iterations, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// Verifier checks PINs against one digest.
type Verifier struct {
	iter      int
	salt, key []byte
}

// ParseDigest reads a pin_digest line.
func ParseDigest(d string) (*Verifier, error) {
	f := strings.Split(d, "$")
	if len(f) != 4 || f[0] != scheme {
		return nil, fmt.Errorf("pin: pin_digest is not %s$ITERATIONS$SALT$KEY (make one with lockd-mqtt pin-digest)", scheme)
	}
	iter, err := strconv.Atoi(f[1])
	if err != nil || iter < minIterations || iter > 10_000_000 {
		return nil, errors.New("pin: pin_digest: iterations must be 1000..10000000")
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(f[2])
	key, err2 := enc.DecodeString(f[3])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) != 32 {
		return nil, errors.New("pin: pin_digest: salt or key is not base64 of the right length")
	}
	return &Verifier{iter: iter, salt: salt, key: key}, nil
}

// Match reports whether pin is the PIN, in time that does not depend on
// how much of it is right.
func (v *Verifier) Match(pin string) bool {
	if !codeFormat.MatchString(pin) {
		return false
	}
	key, err := pbkdf2.Key(sha256.New, pin, v.salt, v.iter, len(v.key))
	return err == nil && subtle.ConstantTimeCompare(key, v.key) == 1
}

package bundle

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

const (
	privateHeader = "lockd-ed25519-private v1"
	publicHeader  = "lockd-ed25519-public v1"
	maxKeyFile    = 4096
)

// KeyID names a public key: the first 8 bytes of its sha256. It only selects
// which trusted key verifies a signature; it is not trusted itself.
type KeyID [8]byte

// KeyIDOf returns the id of pub.
func KeyIDOf(pub ed25519.PublicKey) KeyID {
	sum := sha256.Sum256(pub)
	var id KeyID
	copy(id[:], sum[:])
	return id
}

// String returns the id in lowercase hex.
func (id KeyID) String() string { return hex.EncodeToString(id[:]) }

// Keyring is a set of trusted public keys. Several keys may be trusted at
// once so that a signing key can be rotated without a flag day.
type Keyring struct {
	keys map[KeyID]ed25519.PublicKey
}

// NewKeyring returns a keyring that trusts exactly pubs.
func NewKeyring(pubs ...ed25519.PublicKey) Keyring {
	k := Keyring{keys: make(map[KeyID]ed25519.PublicKey, len(pubs))}
	for _, p := range pubs {
		k.keys[KeyIDOf(p)] = append(ed25519.PublicKey(nil), p...)
	}
	return k
}

// LoadKeyring trusts every *.pub file in dir. Any malformed *.pub file is an
// error naming it, rather than silently trusting fewer keys than intended;
// other files are ignored. A directory without keys is ErrNoKeys.
func LoadKeyring(dir string) (Keyring, error) {
	if _, err := os.Stat(dir); err != nil {
		return Keyring{}, fmt.Errorf("bundle: keys: %w", err)
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.pub"))
	if err != nil {
		return Keyring{}, fmt.Errorf("bundle: keys %s: %w", dir, err)
	}
	sort.Strings(names)
	var pubs []ed25519.PublicKey
	for _, name := range names {
		pub, err := ReadPublicKey(name)
		if err != nil {
			return Keyring{}, err
		}
		pubs = append(pubs, pub)
	}
	if len(pubs) == 0 {
		return Keyring{}, fmt.Errorf("%w: no *.pub file in %s", ErrNoKeys, dir)
	}
	return NewKeyring(pubs...), nil
}

// Len returns the number of trusted keys.
func (k Keyring) Len() int { return len(k.keys) }

// IDs returns the ids of the trusted keys, sorted.
func (k Keyring) IDs() []KeyID {
	ids := make([]KeyID, 0, len(k.keys))
	for id := range k.keys {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return bytes.Compare(ids[i][:], ids[j][:]) < 0 })
	return ids
}

// lookup returns the trusted key with this id.
func (k Keyring) lookup(id KeyID) (ed25519.PublicKey, bool) {
	p, ok := k.keys[id]
	return p, ok
}

// ReadPublicKey reads a KEYBASE.pub file.
func ReadPublicKey(path string) (ed25519.PublicKey, error) {
	b, err := readKeyFile(path, publicHeader, ed25519.PublicKeySize, false)
	if err != nil {
		return nil, err
	}
	return ed25519.PublicKey(b), nil
}

// ReadPrivateKey reads a KEYBASE.key file. Like ssh, it refuses a key that
// group or others may read.
func ReadPrivateKey(path string) (ed25519.PrivateKey, error) {
	seed, err := readKeyFile(path, privateHeader, ed25519.SeedSize, true)
	if err != nil {
		return nil, err
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

func readKeyFile(path, header string, size int, private bool) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bundle: key: %w", err)
	}
	defer f.Close()
	if private {
		fi, err := f.Stat()
		if err != nil {
			return nil, fmt.Errorf("bundle: key: %w", err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			return nil, fmt.Errorf("bundle: private key %s: mode %04o lets others read it; chmod 600 it", path, perm)
		}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("bundle: key %s: %w", path, err)
	}
	key, err := parseKey(data, header, size)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrBadKeyFile, path, err)
	}
	return key, nil
}

// parseKey parses "HEADER\nBASE64\n" strictly.
func parseKey(data []byte, header string, size int) ([]byte, error) {
	if len(data) > maxKeyFile {
		return nil, errors.New("file too large")
	}
	lines := strings.Split(string(data), "\n")
	if len(lines) != 3 || lines[2] != "" {
		return nil, errors.New(`want two lines, each ending in "\n"`)
	}
	if lines[0] != header {
		if lines[0] == privateHeader {
			return nil, errors.New("this is a private key; only *.pub files belong here")
		}
		return nil, fmt.Errorf("first line %.40q, want %q", lines[0], header)
	}
	key, err := base64.StdEncoding.Strict().DecodeString(lines[1])
	if err != nil {
		return nil, fmt.Errorf("key line: %w", err)
	}
	if len(key) != size {
		return nil, fmt.Errorf("key is %d bytes, want %d", len(key), size)
	}
	return key, nil
}

// formatKey is the inverse of parseKey.
func formatKey(header string, key []byte) []byte {
	return []byte(header + "\n" + base64.StdEncoding.EncodeToString(key) + "\n")
}

// WriteKeyPair writes base+".key" (mode 0600) and base+".pub" for priv. It
// never overwrites: if either file exists, nothing is written.
func WriteKeyPair(base string, priv ed25519.PrivateKey) error {
	keyPath, pubPath := base+".key", base+".pub"
	for _, p := range []string{keyPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("bundle: keygen: %s exists; refusing to overwrite it", p)
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("bundle: keygen: %w", err)
		}
	}
	if err := writeNew(keyPath, formatKey(privateHeader, priv.Seed()), 0o600); err != nil {
		return err
	}
	pub := priv.Public().(ed25519.PublicKey)
	if err := writeNew(pubPath, formatKey(publicHeader, pub), 0o644); err != nil {
		os.Remove(keyPath) // we created it just now; leave no half pair
		return err
	}
	return nil
}

// writeNew creates path exclusively, writes data and syncs it.
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("bundle: keygen: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm) // umask may have narrowed or, for .pub, we want it exact
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("bundle: keygen: write %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

package bundle

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "release")
	priv := testKey(1)
	if err := WriteKeyPair(base, priv); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(base + ".key")
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf(".key mode %04o, want 0600", perm)
	}
	got, err := ReadPrivateKey(base + ".key")
	if err != nil || !got.Equal(priv) {
		t.Fatalf("ReadPrivateKey: %v, equal %v", err, got.Equal(priv))
	}
	pub, err := ReadPublicKey(base + ".pub")
	if err != nil || !pub.Equal(pubOf(priv)) {
		t.Fatalf("ReadPublicKey: %v", err)
	}
	data, _ := os.ReadFile(base + ".pub")
	if !strings.HasPrefix(string(data), "lockd-ed25519-public v1\n") {
		t.Errorf(".pub starts %q", data)
	}

	// Never overwrite, not even the half that is missing.
	if err := WriteKeyPair(base, testKey(2)); err == nil {
		t.Fatal("WriteKeyPair overwrote an existing key pair")
	}
	os.Remove(base + ".key")
	if err := WriteKeyPair(base, testKey(2)); err == nil {
		t.Fatal("WriteKeyPair overwrote an existing .pub")
	}
	if _, err := os.Stat(base + ".key"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused keygen left %s.key behind", base)
	}

	// A private key others can read is refused.
	os.Remove(base + ".pub")
	if err := WriteKeyPair(base, priv); err != nil {
		t.Fatal(err)
	}
	os.Chmod(base+".key", 0o644)
	if _, err := ReadPrivateKey(base + ".key"); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable key: got %v", err)
	}
}

func TestLoadKeyringErrors(t *testing.T) {
	valid := string(formatKey(publicHeader, pubOf(testKey(1))))
	tests := map[string]struct {
		files map[string]string
		want  error
	}{
		"empty dir":        {map[string]string{"README": "x"}, ErrNoKeys},
		"private as pub":   {map[string]string{"a.pub": string(formatKey(privateHeader, testKey(1).Seed()))}, ErrBadKeyFile},
		"bad base64":       {map[string]string{"a.pub": valid, "b.pub": "lockd-ed25519-public v1\n!!!\n"}, ErrBadKeyFile},
		"short key":        {map[string]string{"b.pub": "lockd-ed25519-public v1\nAAAA\n"}, ErrBadKeyFile},
		"no final newline": {map[string]string{"b.pub": strings.TrimSuffix(valid, "\n")}, ErrBadKeyFile},
		"extra line":       {map[string]string{"b.pub": valid + "x\n"}, ErrBadKeyFile},
		"ssh key":          {map[string]string{"b.pub": "ssh-ed25519 AAAAC3Nza... me@host\n"}, ErrBadKeyFile},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for f, data := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, f), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := LoadKeyring(dir)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if tt.want == ErrBadKeyFile && !strings.Contains(err.Error(), ".pub") {
				t.Errorf("%q does not name the file", err)
			}
		})
	}
	if _, err := LoadKeyring(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing directory accepted")
	}
}

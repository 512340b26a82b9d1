package codes

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFactoryInit(t *testing.T) {
	e := newEnv(t) // runs FactoryInit
	dir, code := e.dir, e.setup
	if len(code) != SetupDigits || CheckRule(code, KindAdmin) != nil {
		t.Errorf("setup code has %d chars or breaks a rule", len(code))
	}
	fi, err := os.Stat(filepath.Join(dir, DeviceKeyName))
	if err != nil || fi.Size() != DeviceKeySize || fi.Mode().Perm() != 0o600 {
		t.Fatalf("device key: %v %v", fi, err)
	}
	digest, _ := os.ReadFile(filepath.Join(dir, SetupDigestName))
	if strings.Contains(string(digest), code) {
		t.Error("setup digest file contains the code")
	}
	if _, err := FactoryInit(dir, false); !isErr(err, ErrInitialised) {
		t.Fatalf("second FactoryInit: %v, want ErrInitialised", err)
	}

	// A store with codes, then a forced re-init: the old database is moved
	// aside, the new store is unprovisioned and takes the new setup code.
	s := e.provisioned()
	s.Close()
	code2, err := FactoryInit(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, DBName+".reset-*")); len(m) != 1 {
		t.Errorf("old database not moved aside: %v", m)
	}
	s = e.open()
	if ok, _ := s.Provisioned(context.Background()); ok {
		t.Error("provisioned after factory reset")
	}
	if code2 != code && verify(t, s, PurposeSetup, code, t0).OK {
		t.Error("old setup code accepted")
	}
	if v := verify(t, s, PurposeSetup, code2, t0); !v.OK {
		t.Errorf("new setup code refused: %+v", v)
	}
}

func TestRandomDigitsUniform(t *testing.T) {
	var counts [10]int
	const n = 4000
	for i := 0; i < n; i++ {
		c, err := randomDigits(SetupDigits)
		if err != nil || len(c) != SetupDigits {
			t.Fatalf("%q %v", c, err)
		}
		counts[c[0]-'0']++ // the leading digit is where a naive draw is biased
	}
	for d, c := range counts {
		if c < n/10*7/10 || c > n/10*13/10 {
			t.Errorf("leading digit %d drawn %d times of %d", d, c, n)
		}
	}
}

func TestFormatSetupLabel(t *testing.T) {
	for in, want := range map[string]string{"12345678": "1234 5678", "0123": "0123", "123456": "1234 56", "": ""} {
		if got := FormatSetupLabel(in); got != want {
			t.Errorf("FormatSetupLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOpenWithoutDeviceKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state dir")
	_, err := Open(context.Background(), Options{Dir: dir})
	if !isErr(err, ErrNoDeviceKey) {
		t.Fatalf("Open: %v, want ErrNoDeviceKey", err)
	}
	if want := "lockd factory-init --state-dir '" + dir + "'"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say to run %q", err, want)
	}
	os.WriteFile(filepath.Join(dir, DeviceKeyName), []byte("short"), 0o600)
	if _, err := Open(context.Background(), Options{Dir: dir}); !isErr(err, ErrNoDeviceKey) {
		t.Errorf("short key: %v", err)
	}
}

func TestKeyModeNotice(t *testing.T) {
	e := newEnv(t)
	os.Chmod(filepath.Join(e.dir, DeviceKeyName), 0o644)
	if s := e.open(); hasNotice(s, NoticeKeyMode) == nil {
		t.Error("no notice for a world-readable key")
	}
}

func TestNoSetupDigest(t *testing.T) {
	e := newEnv(t)
	os.Remove(filepath.Join(e.dir, SetupDigestName))
	s := e.open()
	if hasNotice(s, NoticeNoSetupCode) == nil {
		t.Error("no notice")
	}
	if v := verify(t, s, PurposeSetup, e.setup, t0); v.OK || v.Failures != 1 {
		t.Errorf("setup without digest: %+v", v)
	}
	// Provisioning locally still works.
	if err := s.SetAdmin(context.Background(), adminCode, t0); err != nil {
		t.Fatal(err)
	}
}

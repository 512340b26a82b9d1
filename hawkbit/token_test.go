package hawkbit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lockd.dev/lockd/internal/testtool"
)

func TestReadToken(t *testing.T) {
	testtool.NeedRoot(t, "the token file must be root's: this test makes one")
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
		return p
	}
	for _, c := range []struct {
		content string
		mode    os.FileMode
		want    string // header, or part of the error
		ok      bool
	}{
		{"abc123\n", 0o600, "TargetToken abc123", true},
		{"GatewayToken g1\n", 0o600, "GatewayToken g1", true},
		{"TargetToken t1", 0o400, "TargetToken t1", true},
		{"abc123\n", 0o640, "readable by root only", false},
		{"two words\n", 0o600, "want a token", false},
		{"\n", 0o600, "one line", false},
	} {
		p := write("token", c.content, c.mode)
		got, err := ReadToken(p, "")
		if c.ok && (err != nil || got != c.want) || !c.ok && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%q %o: %q %v", c.content, c.mode, got, err)
		}
		if err != nil && strings.Contains(err.Error(), strings.TrimSpace(c.content)) && strings.TrimSpace(c.content) != "" {
			t.Errorf("the error shows the token: %v", err)
		}
	}
	// The credential copy is read; the original's mode is checked.
	p := write("token", "original\n", 0o600)
	creds := t.TempDir()
	os.WriteFile(filepath.Join(creds, TokenCredential), []byte("copy\n"), 0o400)
	if got, err := ReadToken(p, creds); err != nil || got != "TargetToken copy" {
		t.Fatalf("%q %v", got, err)
	}
}

func TestControllerID(t *testing.T) {
	a, b := ControllerID([]byte("key one")), ControllerID([]byte("key two"))
	if a == b || a != ControllerID([]byte("key one")) || len(a) != len("lockd-")+16 || !validName(a) {
		t.Fatalf("%s %s", a, b)
	}
}

package bridge

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseCommand(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Command
		err  error
	}{
		{"LOCK", Command{Action: ActionLock}, nil},
		{"UNLOCK", Command{Action: ActionUnlock}, nil},
		{`{"action":"UNLOCK","code":"4821"}`, Command{Action: ActionUnlock, Code: "4821"}, nil},
		{`{"action":"LOCK","code":"None"}`, Command{Action: ActionLock}, nil},
		{`{"action":"UNLOCK"}`, Command{}, ErrUnknown},
		{"{\"action\":\"LOCK\",\"code\":\"None\"}\n", Command{}, ErrUnknown},
		{`{"code":"1234","action":"UNLOCK"}`, Command{}, ErrUnknown},
		{`{"action": "UNLOCK","code":"1234"}`, Command{}, ErrUnknown},
		{`{"action":"LOCK","action":"UNLOCK","code":"None"}`, Command{}, ErrUnknown},
		{`{"action":"UNLOCK","code":"12a4"}`, Command{}, ErrUnknown},
		{"unlock", Command{}, ErrUnknown},
		{"UNLOCK ", Command{}, ErrUnknown},
		{" UNLOCK", Command{}, ErrUnknown},
		{"UNLOCK\x00", Command{}, ErrUnknown},
		{"OPEN", Command{}, ErrUnknown},
		{"", Command{}, ErrUnknown},
		{`{"action":"OPEN"}`, Command{}, ErrUnknown},
		{`{"action":"UNLOCK","code":"1","x":1}`, Command{}, ErrUnknown},
		{`{"action":"UNLOCK"}{"action":"UNLOCK"}`, Command{}, ErrUnknown},
		{`{"action":"UNLOCK"} trailing`, Command{}, ErrUnknown},
		{`{"action":1}`, Command{}, ErrUnknown},
		{`{"code":"1234"}`, Command{}, ErrUnknown},
		{`{"action":"UNLOCK","code":1234}`, Command{}, ErrUnknown},
		{`["UNLOCK"]`, Command{}, ErrUnknown},
		{"{\"action\":\"UNLOCK\",\"code\":\"\xff\"}", Command{}, ErrUnknown},
		{`{"action":"UNLOCK","code":"12` + strings.Repeat("3", 300) + `"}`, Command{}, ErrTooLarge},
	} {
		got, err := ParseCommand([]byte(tc.in))
		if !errors.Is(err, tc.err) || got != tc.want {
			t.Errorf("ParseCommand(%.40q) = %+v, %v; want %+v, %v", tc.in, got, err, tc.want, tc.err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "bridge: ") {
			t.Errorf("error %q does not start with the package name", err)
		}
	}
}

// TestRefusalsNeverQuoteThePayload: a refused payload may hold a PIN;
// the refusal (which is logged) must not repeat it.
func TestRefusalsNeverQuoteThePayload(t *testing.T) {
	for _, in := range []string{`{"action":"UNLOCK","code":"739164","pin":"739164"}`, `{"action":"UNLOCK","code":739164}`,
		`{"action":"UNLOCK","code":"739164"`, `739164`, `{"739164":1}`, `{"action":"739164"}`} {
		_, err := ParseCommand([]byte(in))
		if err == nil || strings.Contains(err.Error(), "739164") {
			t.Errorf("ParseCommand(%q): %v: want a refusal that does not quote the PIN", in, err)
		}
	}
}

// FuzzCommand: any payload is either one of the two forms or refused
// with a bridge: error that quotes nothing of it; it never panics. Seeds
// in testdata/fuzz/FuzzCommand (and the forms Home Assistant sends).
func FuzzCommand(f *testing.F) {
	for _, s := range []string{"LOCK", "UNLOCK", `{"action":"UNLOCK","code":"1234"}`, `{"action":"LOCK","code":"None"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		c, err := ParseCommand(p)
		if err != nil {
			if c != (Command{}) || !strings.HasPrefix(err.Error(), "bridge: ") {
				t.Fatalf("refusal %v with a command %+v", err, c)
			}
			if len(p) >= 6 && strings.Contains(err.Error(), string(p)) {
				t.Fatalf("the refusal quotes the payload: %v", err)
			}
			return
		}
		if c.Action != ActionLock && c.Action != ActionUnlock {
			t.Fatalf("accepted %q as action %v", p, c.Action)
		}
		if len(p) > MaxCommand {
			t.Fatalf("accepted %d bytes", len(p))
		}
		if string(p) != "LOCK" && string(p) != "UNLOCK" && !commandJSON.Match(p) {
			t.Fatalf("accepted %q, which is neither a bare payload nor the template's JSON", p)
		}
	})
}

// TestFuzzSeeds: the corpus under testdata/ exists and holds the hostile
// shapes the threat model names (huge, binary, wrong JSON).
func TestFuzzSeeds(t *testing.T) {
	files, _ := filepath.Glob("testdata/fuzz/FuzzCommand/*")
	if len(files) < 8 {
		t.Fatalf("%d seeds under testdata/fuzz/FuzzCommand, want the hostile set", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil || !strings.HasPrefix(string(b), "go test fuzz v1\n") {
			t.Errorf("%s: not a go fuzz seed: %v", f, err)
		}
	}
}

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// completionFile is the shipped bash completion.
var completionFile = filepath.Join("..", "..", "systemd", "lockctl.bash-completion")

// complete runs the completion function in bash for line (the cursor at
// its end) and returns the candidates.
func complete(t *testing.T, line string) []string {
	t.Helper()
	script := `source "$1"
COMP_LINE=$2; COMP_POINT=${#2}
read -ra COMP_WORDS <<<"$2"; [[ $2 == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_lockctl
printf '%s\n' "${COMPREPLY[@]}"`
	out, err := exec.Command("bash", "-c", script, "bash", completionFile, line).CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	return strings.Fields(string(out))
}

func TestBashCompletion(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bundle.raucb"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		line string
		want string
	}{
		{"lockctl ", "status lock unlock setup code user card mode alarm log update sim help"},
		{"lockctl s", "status setup sim"},
		{"lockctl user ", "add list remove enable disable add-pin"},
		{"lockctl card ", "add list remove"},
		{"lockctl card add --bits ", "26 34"},
		{"lockctl card add -", "--bus --timeout --json --help --bits"},
		{"lockctl user add --t", "--timeout --two-factor"},
		{"lockctl --json --bus unix:path=/run/x code ", "add list remove enable disable reset-lockout"},
		{"lockctl update ", "install status approve reject"},
		{"lockctl update install " + dir + "/bu", dir + "/bundle.raucb"},
		{"lockctl update install --a", "--allow-downgrade"},
		{"lockctl sim ", "press door jam card tamper mains"},
		{"lockctl sim tamper ", "on off"},
		{"lockctl mode ", "normal vacation privacy no-remote passage"},
		{"lockctl mode p", "privacy passage"},
		{"lockctl alarm ", "ack"},
		{"lockctl --bus unix:path=/nonexistent alarm ack ", "forced-open ajar tamper jammed wrong-entry-limit power"},
		{"lockctl sim door ", "open closed"},
		{"lockctl sim jam o", "on off"},
		{"lockctl --bus ", "system session sim unix:path="},
		{"lockctl --bus unix:path=/x ", "status lock unlock setup code user card mode alarm log update sim help"},
		{"lockctl lock --", "--bus --timeout --json --help --no-wait"},
		{"lockctl log -", "--bus --timeout --json --help --follow -f -n"},
		{"lockctl code add --kind ", "user scheduled expiring one-time limited duress non-access after-first-use"},
		{"lockctl code add --label x --we", "--weekdays"},
		{"lockctl code add --label ", ""},
		{"lockctl status ", ""},
	}
	for _, tt := range tests {
		if got := strings.Join(complete(t, tt.line), " "); got != tt.want {
			t.Errorf("complete %q:\n got %q\nwant %q", tt.line, got, tt.want)
		}
	}
}

// TestBashCompletionKnowsEveryCommand keeps the completion in step with
// the command table and the flags each command parses.
func TestBashCompletionKnowsEveryCommand(t *testing.T) {
	b, err := os.ReadFile(completionFile)
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	for _, c := range commands {
		for _, w := range strings.Fields(c.path) {
			if !strings.Contains(src, w) {
				t.Errorf("completion lacks %q (from %q)", w, c.path)
			}
		}
		for _, w := range strings.Fields(c.args) {
			w = strings.Trim(w, "[]")
			if strings.HasPrefix(w, "-") && !strings.Contains(src, w) {
				t.Errorf("completion lacks flag %s of %q", w, c.path)
			}
		}
	}
}

// TestBashCompletionSlots: code remove, enable and disable complete the
// keypad slots `lockctl --json code list` gives, never the admin code's
// absent one or an id.
func TestBashCompletionSlots(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	list := []codeInfo{{ID: 1, Kind: "admin"}, {ID: 4, Slot: 2, Kind: "user"}, {ID: 9, Slot: 13, Kind: "scheduled"}}
	var b strings.Builder
	if err := printJSON(&b, list); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "list.json"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	fake := "#!/bin/sh\ncat " + filepath.Join(dir, "list.json") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "lockctl"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	for _, sub := range []string{"remove", "enable", "disable"} {
		if got := strings.Join(complete(t, "lockctl code "+sub+" "), " "); got != "2 13" {
			t.Errorf("complete code %s: %q, want the slots 2 13", sub, got)
		}
	}
}

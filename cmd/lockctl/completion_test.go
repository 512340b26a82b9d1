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
		{"lockctl ", "status lock unlock setup code log update sim help"},
		{"lockctl s", "status setup sim"},
		{"lockctl --json --bus unix:path=/run/x code ", "add list remove enable disable reset-lockout"},
		{"lockctl update ", "install status approve reject"},
		{"lockctl update install " + dir + "/bu", dir + "/bundle.raucb"},
		{"lockctl update install --a", "--allow-downgrade"},
		{"lockctl sim ", "press door jam"},
		{"lockctl sim door ", "open closed"},
		{"lockctl sim jam o", "on off"},
		{"lockctl --bus ", "system session sim unix:path="},
		{"lockctl --bus unix:path=/x ", "status lock unlock setup code log update sim help"},
		{"lockctl lock --", "--bus --timeout --json --help --no-wait"},
		{"lockctl log -", "--bus --timeout --json --help --follow -f -n"},
		{"lockctl code add --kind ", "user scheduled expiring one-time limited duress"},
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

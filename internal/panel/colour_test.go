package panel

import (
	"io"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/lock"
)

// env is an environment for termenv's detection.
type env map[string]string

func (e env) Environ() []string {
	var out []string
	for k, v := range e {
		out = append(out, k+"="+v)
	}
	return out
}

func (e env) Getenv(k string) string { return e[k] }

// TestViewColour: on a colour terminal the panel is in colour; with
// NO_COLOR set, on a dumb terminal or off a terminal it is plain text.
func TestViewColour(t *testing.T) {
	for _, tt := range []struct {
		name   string
		env    env
		tty    bool
		colour bool
	}{
		{"colour terminal", env{"TERM": "xterm-256color"}, true, true},
		{"NO_COLOR", env{"TERM": "xterm-256color", "NO_COLOR": "1"}, true, false},
		{"dumb terminal", env{"TERM": "dumb"}, true, false},
		{"not a terminal", env{"TERM": "xterm-256color"}, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, sim.BoardConfig{}, lock.Status{State: lock.StateJammed, Provisioned: true})
			h.m.ui = newStyles(lipgloss.NewRenderer(io.Discard, termenv.WithTTY(tt.tty), termenv.WithEnvironment(tt.env)))
			h.m.Update(eventMsg(lock.Event{Kind: lock.EventDenied, Source: lock.SourceKeypad, Reason: lock.ReasonUnknown}))
			v := h.m.View()
			if got := strings.Contains(v, "\x1b["); got != tt.colour {
				t.Errorf("escape sequences %v, want %v:\n%q", got, tt.colour, v)
			}
			if !strings.Contains(v, "JAMMED") {
				t.Errorf("view lacks the bolt state:\n%s", v)
			}
		})
	}
}

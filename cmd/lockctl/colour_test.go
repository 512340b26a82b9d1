package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// TestColourful: colour only for a terminal that wants it.
func TestColourful(t *testing.T) {
	_, tty := openPTY(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	for _, tt := range []struct {
		name string
		w    *os.File
		env  func(string) string
		want bool
	}{
		{"terminal", tty, env("TERM", "xterm"), true},
		{"NO_COLOR", tty, env("TERM", "xterm", "NO_COLOR", "1"), false},
		{"dumb terminal", tty, env("TERM", "dumb"), false},
		{"no TERM", tty, env(), false},
		{"pipe", w, env("TERM", "xterm"), false},
	} {
		if got := colourful(tt.w, tt.env); got != tt.want {
			t.Errorf("%s: colourful %v, want %v", tt.name, got, tt.want)
		}
	}
	if a := (&app{colour: true, json: true}); a.painter().on {
		t.Error("--json output is coloured")
	}
}

// TestStatusColour: on a colour terminal status colours what needs a
// person; the text is the same as without colour.
func TestStatusColour(t *testing.T) {
	now := time.Date(2026, 11, 3, 14, 0, 0, 0, time.Local)
	s := newLockStatus(map[string]dbus.Variant{"State": v("jammed"), "Provisioned": v(true), "Mode": v("idle")}, now)
	uid := int64(0)
	s.Events = []logEntry{{Time: now, Kind: "denied", Source: "keypad"}, {Time: now, Kind: "locked", Source: "dbus", UID: &uid}}
	var plainOut, colourOut bytes.Buffer
	writeStatus(&plainOut, s, painter{})
	writeStatus(&colourOut, s, painter{on: true})
	if strings.Contains(plainOut.String(), "\x1b[") {
		t.Errorf("plain status has escapes:\n%q", plainOut.String())
	}
	for _, want := range []string{"\x1b[1;31mjammed\x1b[0m", "\x1b[1;31mbolt: jammed", "\x1b[1;31m2026-11-03 14:00:00  denied",
		"\x1b[32m2026-11-03 14:00:00  locked", "Door: closed\n"} {
		if !strings.Contains(colourOut.String(), want) {
			t.Errorf("coloured status lacks %q:\n%q", want, colourOut.String())
		}
	}
	if got := stripSGR(colourOut.String()); got != plainOut.String() {
		t.Errorf("colour changed the text:\n%s\nwant\n%s", got, plainOut.String())
	}
}

// stripSGR removes the escapes painter adds.
func stripSGR(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "\x1b[")
		if i < 0 {
			return b.String() + s
		}
		b.WriteString(s[:i])
		j := strings.IndexByte(s[i:], 'm')
		s = s[i+j+1:]
	}
}

package main

import (
	"io"
	"os"

	"golang.org/x/term"
)

// Colour is for a person at a terminal: lockctl colours its own output
// only when stdout is one, NO_COLOR is unset or empty (no-color.org),
// TERM is set and not "dumb", and --json is off. Pipes, files, scripts
// and the golden tests get plain text. Colour is added after sanitize, so
// the escapes are lockctl's own, never lockd's.

// colour is an SGR parameter; "" is none.
type colour string

const (
	noColour colour = ""
	green    colour = "32"
	yellow   colour = "33"
	red      colour = "1;31"
)

// painter colours text when on.
type painter struct{ on bool }

func (p painter) paint(c colour, s string) string {
	if !p.on || c == noColour || s == "" {
		return s
	}
	return "\x1b[" + string(c) + "m" + s + "\x1b[0m"
}

// colourful reports whether w is a terminal that wants colour.
func colourful(w io.Writer, getenv func(string) string) bool {
	if getenv("NO_COLOR") != "" {
		return false
	}
	if t := getenv("TERM"); t == "" || t == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// painter returns how this invocation colours its standard output.
func (a *app) painter() painter {
	return painter{on: !a.json && a.colour}
}

// stateColour colours the bolt's state.
func stateColour(state string) colour {
	switch state {
	case "locked":
		return green
	case "unlocked", "locking", "unlocking":
		return yellow
	}
	return red // jammed, unknown: a person must act
}

// kindColour colours an event by how much it matters to a person.
func kindColour(kind string) colour {
	switch kind {
	case "granted", "locked", "setup", "lockout-end", "update-committed":
		return green
	case "denied", "duress", "jammed", "position-unknown", "lockout", "refused", "keypad-error",
		"code-store-error", "access-denied", "update-failed", "update-rolled-back", "update-refused":
		return red
	case "unlocked", "door-open", "lock-pending", "position-changed":
		return yellow
	}
	return noColour
}

// Package flagtext spells the errors of the standard flag package the way
// the help of lockd and lockctl spells options: two dashes for a long
// option (--state-dir), one for a one-letter option (-n). The flag
// package itself always prints one dash, whatever the user typed.
package flagtext

import (
	"regexp"
	"strings"
)

// The flag package's messages that name an option (flag.go, Go 1.26);
// the name is the last group. A message that matches none is returned
// unchanged, so a new wording in a later Go only loses the dashes.
var (
	notDefined = regexp.MustCompile(`^flag provided but not defined: -(.+)$`)
	needsValue = regexp.MustCompile(`^flag needs an argument: -(.+)$`)
	badValue   = regexp.MustCompile(`^(invalid (?:boolean )?value "(?s:.*)" for) (?:flag )?-([^:]+)(: .*)$`)
)

// Message returns err's text with the option spelled as the help spells
// it: "unknown option --frob", "this option needs a value: --bus",
// `invalid value "soon" for --timeout: parse error`.
func Message(err error) string {
	msg := err.Error()
	if m := notDefined.FindStringSubmatch(msg); m != nil {
		return "unknown option " + Option(m[1])
	}
	if m := needsValue.FindStringSubmatch(msg); m != nil {
		return "this option needs a value: " + Option(m[1])
	}
	if m := badValue.FindStringSubmatch(msg); m != nil {
		return m[1] + " " + Option(m[2]) + m[3]
	}
	return msg
}

// Option spells an option name for a person: "-n", "--state-dir".
func Option(name string) string {
	name = strings.TrimLeft(name, "-")
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

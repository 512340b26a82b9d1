package tryboot

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalid is wrapped by every error about what autoboot.txt or the
// tryboot flag says, as opposed to failing to read them: the file is one
// lockd will not interpret, or a change would make it one.
var ErrInvalid = errors.New("tryboot: invalid autoboot.txt or tryboot flag")

// invalidError carries its own text and matches ErrInvalid, so a message
// reads "tryboot: PATH: line 3: ..." without the sentinel's text in it.
type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func invalidf(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

// maxSize is how much of autoboot.txt the firmware reads.
const maxSize = 512

// The keys lockd manages.
const (
	keyPartition = "boot_partition"
	keyAB        = "tryboot_a_b"
)

// scope says when the firmware applies a line, from the filters above it.
type scope int

const (
	scopeAll     scope = iota // every boot: before any filter, or after [all]
	scopeTry                  // only a tryboot boot: after [tryboot]
	scopeNone                 // never: after [none]
	scopeUnknown              // a filter autoboot.txt does not support
)

// line is one line of autoboot.txt. text+eol is the line exactly as read.
type line struct {
	text, eol string
	scope     scope
	key       string // "" unless a key=value line
	value     string // the value with spaces and tabs trimmed
	valStart  int    // value is text[valStart:valStart+len(value)]
	part      int    // the partition of an applicable boot_partition line
}

// file is a parsed autoboot.txt.
type file struct {
	lines []line
}

// parse splits autoboot.txt into lines and checks what the firmware would
// act on. Filters combine as in config.txt: [all] resets them, [tryboot]
// and [none] narrow what follows, and any other filter (autoboot.txt
// supports no other) makes the lines under it lockd's guess, so a
// boot_partition there is an error. Only lines starting with '#' are
// comments; "key=value # note" has the value "value # note".
func parse(data []byte) (*file, error) {
	if len(data) > maxSize {
		return nil, invalidf("%d bytes, but the firmware reads only the first %d", len(data), maxSize)
	}
	f := &file{}
	try, none, unknown := false, false, ""
	rest := string(data)
	for n := 1; rest != ""; n++ {
		l := line{text: rest}
		rest = ""
		if i := strings.IndexByte(l.text, '\n'); i >= 0 {
			l.text, l.eol, rest = l.text[:i], "\n", l.text[i+1:]
			if strings.HasSuffix(l.text, "\r") {
				l.text, l.eol = l.text[:len(l.text)-1], "\r\n"
			}
		}
		t := strings.Trim(l.text, " \t")
		switch {
		case t == "" || t[0] == '#':
		case t[0] == '[':
			if len(t) < 2 || t[len(t)-1] != ']' {
				return nil, invalidf("line %d: malformed filter %q", n, t)
			}
			switch name := t[1 : len(t)-1]; name {
			case "all":
				try, none, unknown = false, false, ""
			case "tryboot":
				try = true
			case "none":
				none = true
			default:
				if unknown == "" {
					unknown = name
				}
			}
		default:
			eq := strings.IndexByte(l.text, '=')
			if eq < 0 {
				break // not a setting lockd reads; kept as it is
			}
			l.key = strings.Trim(l.text[:eq], " \t")
			after := l.text[eq+1:]
			l.value = strings.Trim(after, " \t")
			l.valStart = eq + 1 + len(after) - len(strings.TrimLeft(after, " \t"))
		}
		switch {
		case none:
			l.scope = scopeNone
		case unknown != "":
			l.scope = scopeUnknown
		case try:
			l.scope = scopeTry
		}
		if err := l.check(n, unknown); err != nil {
			return nil, err
		}
		f.lines = append(f.lines, l)
	}
	return f, nil
}

// check validates a key lockd manages where the firmware would apply it.
func (l *line) check(n int, filter string) error {
	if l.key == "" || l.scope == scopeNone {
		return nil
	}
	for _, k := range []string{keyPartition, keyAB} {
		if l.key != k && strings.EqualFold(l.key, k) {
			return invalidf("line %d: %q is not spelt %s", n, l.key, k)
		}
	}
	if l.key != keyPartition {
		return nil
	}
	if l.scope == scopeUnknown {
		return invalidf("line %d: boot_partition under [%s], a filter autoboot.txt does not support", n, filter)
	}
	p, ok := partitionNumber(l.value)
	if !ok {
		return invalidf("line %d: boot_partition=%q is not a partition number", n, l.value)
	}
	l.part = p
	return nil
}

// partitionNumber accepts one to three decimal digits.
func partitionNumber(s string) (int, bool) {
	if s == "" || len(s) > 3 || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	p, err := strconv.Atoi(s)
	return p, err == nil
}

// bytes is the file as it would be written.
func (f *file) bytes() []byte {
	var b bytes.Buffer
	for _, l := range f.lines {
		b.WriteString(l.text)
		b.WriteString(l.eol)
	}
	return b.Bytes()
}

// applies reports whether the firmware applies l on a normal boot
// (tryboot false) or on a tryboot boot.
func (l *line) applies(tryboot bool) bool {
	return l.scope == scopeAll || (tryboot && l.scope == scopeTry)
}

// last returns the index of the last line setting key that the firmware
// applies on the given kind of boot (the last one wins), or -1.
func (f *file) last(key string, tryboot bool) int {
	for i := len(f.lines) - 1; i >= 0; i-- {
		if l := &f.lines[i]; l.key == key && l.applies(tryboot) {
			return i
		}
	}
	return -1
}

// lastIn returns the index of the last line of any kind in scope s, or -1.
func (f *file) lastIn(s scope) int {
	for i := len(f.lines) - 1; i >= 0; i-- {
		if f.lines[i].scope == s {
			return i
		}
	}
	return -1
}

// partition is the boot_partition the firmware uses on the given kind of
// boot; ok is false when none is set.
func (f *file) partition(tryboot bool) (p int, ok bool) {
	if i := f.last(keyPartition, tryboot); i >= 0 {
		return f.lines[i].part, true
	}
	return 0, false
}

// value is the value of key the firmware uses on the given kind of boot.
func (f *file) value(key string, tryboot bool) (string, bool) {
	if i := f.last(key, tryboot); i >= 0 {
		return f.lines[i].value, true
	}
	return "", false
}

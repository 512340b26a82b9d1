package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// timeLayout is how lockctl shows a moment to a person (local time).
const timeLayout = "2006-01-02 15:04:05"

// printJSON writes v as indented JSON, for scripts (--json).
func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("json: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// humanDuration shows d like "4m 30s" or "1h 5m": the two largest units,
// rounded up to the second so a running lockout never shows "0s".
func humanDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	secs := int64((d + time.Second - 1) / time.Second)
	units := []struct {
		n    int64
		name string
	}{{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}}
	var parts []string
	for _, u := range units {
		if v := secs / u.n; v > 0 || len(parts) > 0 {
			parts = append(parts, fmt.Sprintf("%d%s", v, u.name))
			secs -= v * u.n
		}
		if len(parts) == 2 {
			break
		}
	}
	if len(parts) == 2 && strings.HasPrefix(parts[1], "0") {
		parts = parts[:1]
	}
	return strings.Join(parts, " ")
}

// keyValues writes hostnamectl-style "Key: value" lines with the keys
// right-aligned; a value with several lines continues under the first.
// style, when set, colours line i of the value of key.
func keyValues(w io.Writer, rows [][2]string, p painter, style func(key string, i int) colour) {
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	for _, r := range rows {
		lines := strings.Split(r[1], "\n")
		for i := range lines {
			lines[i] = sanitize(lines[i])
			if style != nil {
				lines[i] = p.paint(style(r[0], i), lines[i])
			}
		}
		key := r[0] + ":"
		if r[0] == "" {
			key = ""
		}
		fmt.Fprintf(w, "%*s %s\n", width+1, key, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "%*s %s\n", width+1, "", l)
		}
	}
}

// Readers for a{sv} maps and property maps: lockd may send any integer
// width, and a missing key reads as the zero value.

func vString(m map[string]dbus.Variant, k string) string {
	s, _ := m[k].Value().(string)
	return s
}

func vBool(m map[string]dbus.Variant, k string) bool {
	b, _ := m[k].Value().(bool)
	return b
}

func vStrings(m map[string]dbus.Variant, k string) []string {
	s, _ := m[k].Value().([]string)
	return s
}

// vInt returns an integer of any D-Bus width and whether k was present.
func vInt(m map[string]dbus.Variant, k string) (int64, bool) {
	v, ok := m[k]
	if !ok {
		return 0, false
	}
	switch n := v.Value().(type) {
	case byte:
		return int64(n), true
	case int16:
		return int64(n), true
	case uint16:
		return int64(n), true
	case int32:
		return int64(n), true
	case uint32:
		return int64(n), true
	case int64:
		return n, true
	case uint64:
		return int64(n), true
	}
	return 0, false
}

// vMicros reads µs since the epoch; 0 or missing is the zero time.
func vMicros(m map[string]dbus.Variant, k string) time.Time {
	n, _ := vInt(m, k)
	if n <= 0 {
		return time.Time{}
	}
	return time.UnixMicro(n)
}

// plain turns the variants of m not in skip into JSON-friendly values.
func plain(m map[string]dbus.Variant, skip ...string) map[string]any {
	out := make(map[string]any)
	for k, v := range m {
		if contains(skip, k) {
			continue
		}
		out[k] = plainValue(v.Value())
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func plainValue(v any) any {
	switch x := v.(type) {
	case dbus.Variant:
		return plainValue(x.Value())
	case map[string]dbus.Variant:
		return plain(x)
	case dbus.ObjectPath:
		return string(x)
	}
	return v
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/godbus/dbus/v5"
)

// addFlags are `lockctl code add`'s options as typed.
type addFlags struct {
	label, kind, weekdays, from, until, validFrom, validUntil string
	uses                                                      int // -1: not given
	twoFactor, vacation                                       bool
	expireAfter                                               int // minutes, 0: not given
}

// options builds the a{sv} options of Codes1.Add and Users1.AddUser for
// cmd. Malformed values are usage errors; whether the combination makes
// sense is lockd's to say.
func (f addFlags) options(cmd string) (map[string]dbus.Variant, error) {
	o := map[string]dbus.Variant{}
	if f.twoFactor {
		o["two_factor"] = dbus.MakeVariant(true)
	}
	if f.vacation {
		o["vacation"] = dbus.MakeVariant(true)
	}
	if f.expireAfter != 0 {
		if f.expireAfter < 1 {
			return nil, usagef(cmd, "%s: --expire-after is minutes, at least 1", cmd)
		}
		o["expire_after"] = dbus.MakeVariant(uint32(f.expireAfter))
	}
	if f.weekdays != "" {
		if err := checkWeekdays(cmd, f.weekdays); err != nil {
			return nil, err
		}
		o["weekdays"] = dbus.MakeVariant(f.weekdays)
	}
	for _, t := range []struct{ key, val string }{{"from", f.from}, {"until", f.until}} {
		if t.val == "" {
			continue
		}
		if _, err := time.Parse("15:04", t.val); err != nil {
			return nil, usagef(cmd, "%s: --%s %q: want HH:MM (24-hour)", cmd, t.key, t.val)
		}
		o[t.key] = dbus.MakeVariant(t.val)
	}
	for _, t := range []struct{ key, flag, val string }{
		{"valid_from", "valid-from", f.validFrom}, {"valid_until", "valid-until", f.validUntil}} {
		if t.val == "" {
			continue
		}
		when, err := parseWhen(t.val)
		if err != nil {
			return nil, usagef(cmd, "%s: --%s %q: want RFC 3339 (2026-12-24T18:00:00+01:00), YYYY-MM-DDTHH:MM or YYYY-MM-DD (local time)", cmd, t.flag, t.val)
		}
		o[t.key] = dbus.MakeVariant(uint64(when.UnixMicro()))
	}
	if f.uses != -1 {
		if f.uses < 1 {
			return nil, usagef(cmd, "%s: --uses must be at least 1", cmd)
		}
		o["uses"] = dbus.MakeVariant(uint32(f.uses))
	}
	kind := f.kind
	if kind == "" {
		kind = inferKind(f)
	} else if !slices.Contains(addKinds, kind) {
		return nil, usagef(cmd, "%s: --kind %q: want one of %s", cmd, kind, strings.Join(addKinds, ", "))
	}
	o["kind"] = dbus.MakeVariant(kind)
	return o, nil
}

// addKinds are the kinds Codes1.Add takes (wire.OptKind), in help order.
var addKinds = []string{"user", "scheduled", "expiring", "one-time", "limited", "duress", "non-access", "after-first-use"}

// weekdayNames are the day names Codes1.Add takes, Monday first.
var weekdayNames = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// checkWeekdays refuses what lockd would refuse, as a usage error that
// says once what the days are.
func checkWeekdays(cmd, s string) error {
	for _, d := range strings.Split(s, ",") {
		if !slices.Contains(weekdayNames, strings.ToLower(strings.TrimSpace(d))) {
			return usagef(cmd, "%s: --weekdays %q: %q is not a day: want days of mon tue wed thu fri sat sun, comma-separated, like mon,fri", cmd, s, d)
		}
	}
	return nil
}

// inferKind picks the kind the other options imply, so `code add --uses 1`
// needs no --kind.
func inferKind(f addFlags) string {
	switch {
	case f.expireAfter != 0:
		return "after-first-use"
	case f.weekdays != "" || f.from != "" || f.until != "":
		return "scheduled"
	case f.uses == 1:
		return "one-time"
	case f.uses > 1:
		return "limited"
	case f.validFrom != "" || f.validUntil != "":
		return "expiring"
	}
	return "user"
}

// parseWhen reads a moment: RFC 3339, or a local date with or without a
// time of day.
func parseWhen(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q", s)
}

// codeInfo is one code as Codes1.List describes it: never its digits.
type codeInfo struct {
	ID         uint32         `json:"id"`
	Label      string         `json:"label"`
	Slot       int64          `json:"slot"` // 0: none (the admin code)
	Kind       string         `json:"kind"`
	Enabled    bool           `json:"enabled"`
	Weekdays   string         `json:"weekdays,omitempty"`
	From       string         `json:"from,omitempty"`
	Until      string         `json:"until,omitempty"`
	ValidFrom  *time.Time     `json:"valid_from,omitempty"`
	ValidUntil *time.Time     `json:"valid_until,omitempty"`
	Uses       int64          `json:"uses"`      // times granted
	UsesLeft   *int64         `json:"uses_left"` // nil: unlimited
	Created    *time.Time     `json:"created,omitempty"`
	LastUsed   *time.Time     `json:"last_used"` // nil: never
	Details    map[string]any `json:"details,omitempty"`
}

var knownCodeDetails = []string{"slot", "kind", "enabled", "weekdays", "from", "until", "valid_from",
	"valid_until", "uses", "uses_left", "created", "last_used"}

func newCodeInfo(id uint32, label string, d map[string]dbus.Variant) codeInfo {
	ci := codeInfo{ID: id, Label: label, Kind: vString(d, "kind"), Enabled: vBool(d, "enabled"),
		Weekdays: vString(d, "weekdays"), From: vString(d, "from"), Until: vString(d, "until"),
		ValidFrom: timePtr(vMicros(d, "valid_from")), ValidUntil: timePtr(vMicros(d, "valid_until")),
		Created: timePtr(vMicros(d, "created")), LastUsed: timePtr(vMicros(d, "last_used")),
		Details: plain(d, knownCodeDetails...)}
	ci.Slot, _ = vInt(d, "slot")
	ci.Uses, _ = vInt(d, "uses")
	if n, ok := vInt(d, "uses_left"); ok && n >= 0 {
		ci.UsesLeft = &n
	}
	return ci
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// listCodes calls Codes1.List.
func (c *client) listCodes(ctx context.Context) ([]codeInfo, error) {
	var raw []struct {
		ID      uint32
		Label   string
		Details map[string]dbus.Variant
	}
	if err := c.call(ctx, ifaceCodes, "List", nil, &raw); err != nil {
		return nil, err
	}
	out := make([]codeInfo, 0, len(raw))
	for _, r := range raw {
		out = append(out, newCodeInfo(r.ID, r.Label, r.Details))
	}
	return out, nil
}

// schedule says when a code opens, in a few words.
func (ci codeInfo) schedule() string {
	var parts []string
	if ci.Weekdays != "" {
		parts = append(parts, ci.Weekdays)
	}
	if ci.From != "" || ci.Until != "" {
		if ci.From == ci.Until {
			parts = append(parts, "all day")
		} else {
			parts = append(parts, ci.From+"-"+ci.Until)
		}
	}
	if ci.ValidFrom != nil {
		parts = append(parts, "from "+ci.ValidFrom.Local().Format("2006-01-02 15:04"))
	}
	if ci.ValidUntil != nil {
		parts = append(parts, "until "+ci.ValidUntil.Local().Format("2006-01-02 15:04"))
	}
	if len(parts) == 0 {
		return "always"
	}
	return strings.Join(parts, " ")
}

// writeCodeTable prints the codes as `lockctl code list` does.
func writeCodeTable(w io.Writer, list []codeInfo) {
	if len(list) == 0 {
		fmt.Fprintln(w, "No codes.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	// The slot is the one number the owner knows a code by (codeBySlot);
	// the D-Bus id is in --json only.
	fmt.Fprintln(tw, "SLOT\tLABEL\tKIND\tSCHEDULE\tENABLED\tUSES\tLAST-USED")
	for _, ci := range list {
		slot := "-"
		if ci.Slot != 0 {
			slot = fmt.Sprint(ci.Slot)
		}
		label := sanitize(ci.Label)
		if label == "" {
			label = "-"
		}
		enabled := "no"
		if ci.Enabled {
			enabled = "yes"
		}
		uses := fmt.Sprint(ci.Uses)
		if ci.UsesLeft != nil {
			uses += fmt.Sprintf(" (%d left)", *ci.UsesLeft)
		}
		last := "never"
		if ci.LastUsed != nil {
			last = ci.LastUsed.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", slot, label, sanitize(ci.Kind), ci.schedule(), enabled, uses, last)
	}
	_ = tw.Flush()
}

// sanitize keeps what lockd sends from driving the terminal: control
// characters (escape sequences, tabs that would break the table) become
// '?'.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}

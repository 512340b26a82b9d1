package codes

import (
	"errors"
	"strings"
	"testing"
)

// TestErrorTexts: what a person reads (through lockctl) says each thing
// once, names no internal rule id, and still matches the sentinel a
// caller tells apart.
func TestErrorTexts(t *testing.T) {
	_, weekdayErr := ParseWeekdays("mon,funday")
	_, kindErr := AddOptions{Kind: "weekly"}.validate()
	tests := []struct {
		err      error
		sentinel error
		want     string
	}{
		{&RuleError{Reason: RuleTooShort}, ErrWeakCode, "codes: code too short: a user code needs at least 4 digits, the admin code at least 6"},
		{&RuleError{Reason: RuleSequence}, ErrWeakCode, "codes: code too easy to guess: its digits are a sequence, straight up or down"},
		{weekdayErr, ErrInvalid, `codes: unknown weekday "funday": want days mon..sun, comma-separated, like "mon,tue"`},
		{kindErr, ErrInvalid, `codes: unknown kind "weekly": want user, scheduled, expiring, one-time, limited, duress, non-access or after-first-use`},
	}
	for _, tt := range tests {
		if tt.err == nil || tt.err.Error() != tt.want || !errors.Is(tt.err, tt.sentinel) {
			t.Errorf("got %v, want %q matching %v", tt.err, tt.want, tt.sentinel)
		}
	}
	for rule := range ruleText {
		if msg := (&RuleError{Reason: rule}).Error(); strings.Contains(msg, rule+":") {
			t.Errorf("%q repeats the rule id %s", msg, rule)
		}
	}
}

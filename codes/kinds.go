package codes

import (
	"fmt"
	"strings"
	"time"
)

// Kind is what a code is for and how it is limited.
type Kind string

// Kinds of code.
const (
	// KindAdmin enters programming mode (and opens). Exactly one; set with
	// SetAdmin.
	KindAdmin Kind = "admin"
	// KindUser opens at any time.
	KindUser Kind = "user"
	// KindScheduled opens on some weekdays within a daily window.
	KindScheduled Kind = "scheduled"
	// KindExpiring opens between ValidFrom and ValidUntil.
	KindExpiring Kind = "expiring"
	// KindOneTime opens once and is then used up.
	KindOneTime Kind = "one-time"
	// KindLimited opens Uses times.
	KindLimited Kind = "limited"
	// KindDuress opens like a user code; Verdict.Duress tells the core to
	// raise a silent duress event.
	KindDuress Kind = "duress"
	// KindNonAccess opens nothing: its credentials are recognised and
	// only logged (Matter's non-access user), never counted as wrong.
	KindNonAccess Kind = "non-access"
	// KindAfterFirstUse opens for ExpireAfter from its first granted use
	// on (Matter's expiring user).
	KindAfterFirstUse Kind = "after-first-use"
)

// AddKinds returns the kinds Add takes (every kind but the admin code's),
// in the order help and messages list them.
func AddKinds() []Kind {
	return []Kind{KindUser, KindScheduled, KindExpiring, KindOneTime, KindLimited, KindDuress, KindNonAccess, KindAfterFirstUse}
}

// KindNames lists the kinds Add takes for a person: "user, scheduled,
// expiring, one-time, limited, duress, non-access or after-first-use".
func KindNames() string {
	k := AddKinds()
	names := make([]string, len(k))
	for i, n := range k {
		names[i] = string(n)
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// Valid reports whether k is one of the kinds above.
func (k Kind) Valid() bool {
	switch k {
	case KindAdmin, KindUser, KindScheduled, KindExpiring, KindOneTime, KindLimited, KindDuress, KindNonAccess, KindAfterFirstUse:
		return true
	}
	return false
}

// Weekdays is a set of days of the week: bit d is time.Weekday(d).
type Weekdays uint8

// AllWeekdays is every day.
const AllWeekdays Weekdays = 0x7f

// Days returns the set of the given days.
func Days(days ...time.Weekday) Weekdays {
	var w Weekdays
	for _, d := range days {
		w |= 1 << (uint(d) % 7)
	}
	return w
}

// Has reports whether d is in the set.
func (w Weekdays) Has(d time.Weekday) bool { return w&(1<<(uint(d)%7)) != 0 }

var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// String lists the days as "mon,tue,fri".
func (w Weekdays) String() string {
	var b []string
	for _, d := range []time.Weekday{1, 2, 3, 4, 5, 6, 0} {
		if w.Has(d) {
			b = append(b, dayNames[d])
		}
	}
	return strings.Join(b, ",")
}

// ParseWeekdays reads a comma-separated list of day names ("mon,tue") as
// written by String; "" is the empty set.
func ParseWeekdays(s string) (Weekdays, error) {
	var w Weekdays
	if s == "" {
		return 0, nil
	}
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		found := false
		for i, n := range dayNames {
			if f == n {
				w |= 1 << uint(i)
				found = true
			}
		}
		if !found {
			return 0, invalidf("codes: unknown weekday %q: want days mon..sun, comma-separated, like \"mon,tue\"", f)
		}
	}
	return w, nil
}

// TimeOfDay is a wall-clock time in the configured zone, in minutes since
// midnight (0..1439).
type TimeOfDay int

// ParseTimeOfDay reads "HH:MM" (24-hour).
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, invalidf("codes: time of day %q: want HH:MM", s)
	}
	return TimeOfDay(t.Hour()*60 + t.Minute()), nil
}

// String returns "HH:MM".
func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", int(t)/60, int(t)%60) }

func (t TimeOfDay) valid() bool { return t >= 0 && t < 24*60 }

package codes

import "time"

// MaxUses bounds AddOptions.Uses.
const MaxUses = 1_000_000

// MaxExpireAfter bounds AddOptions.ExpireAfter: 48 hours, the range of
// Matter's ExpiringUserTimeout (1 to 2880 minutes).
const MaxExpireAfter = 2880 * time.Minute

// AddOptions says what kind of code Add stores and how it is limited.
//
//   - KindUser, KindDuress: nothing else may be set.
//   - KindScheduled: Weekdays (non-empty) and a daily window [From, Until)
//     in Options.Location. Until < From crosses midnight: the window opens
//     on a listed weekday and runs into the next day (fri 22:00-06:00 is
//     Friday 22:00 to Saturday 06:00). From == Until is the whole day.
//     ValidFrom/ValidUntil may further bound it.
//   - KindExpiring: ValidFrom and/or ValidUntil, [ValidFrom, ValidUntil).
//   - KindOneTime: Uses 0 or 1; KindLimited: Uses >= 1. Either may carry
//     ValidFrom/ValidUntil.
//   - KindNonAccess: nothing else may be set (not TwoFactor either).
//   - KindAfterFirstUse: ExpireAfter, whole minutes from 1 minute to
//     MaxExpireAfter; ValidFrom/ValidUntil may further bound it.
//   - TwoFactor, for any kind that opens: a card of the user, then a PIN
//     of the user within Options.TwoFactorWindow; either alone opens
//     nothing.
//
// A code with a schedule or a validity period is time-limited: it is
// refused with ReasonClockUntrusted while the clock cannot be trusted.
type AddOptions struct {
	Kind        Kind
	Weekdays    Weekdays
	From, Until TimeOfDay
	ValidFrom   time.Time // zero: no lower bound
	ValidUntil  time.Time // zero: no upper bound
	Uses        int
	TwoFactor   bool
	// Vacation: the user's credentials open in vacation mode too
	// (opmode.go); nobody else's do.
	Vacation    bool
	ExpireAfter time.Duration // KindAfterFirstUse only
}

// validate checks o and returns it normalised (one-time: Uses = 1).
func (o AddOptions) validate() (AddOptions, error) {
	bad := func(format string, args ...any) (AddOptions, error) {
		return o, invalidf("codes: "+format, args...)
	}
	if !o.Kind.Valid() {
		return bad("unknown kind %q: want %s", o.Kind, KindNames())
	}
	if o.Kind == KindAdmin {
		return bad("the admin code is set with SetAdmin")
	}
	schedule := o.Weekdays != 0 || o.From != 0 || o.Until != 0
	validity := !o.ValidFrom.IsZero() || !o.ValidUntil.IsZero()
	if o.Weekdays&^AllWeekdays != 0 || !o.From.valid() || !o.Until.valid() {
		return bad("weekdays or time of day out of range")
	}
	if !o.ValidFrom.IsZero() && !o.ValidUntil.IsZero() && !o.ValidFrom.Before(o.ValidUntil) {
		return bad("valid-from must be before valid-until")
	}
	if o.Uses < 0 || o.Uses > MaxUses {
		return bad("uses must be 0..%d", MaxUses)
	}
	if (o.ExpireAfter != 0) != (o.Kind == KindAfterFirstUse) {
		return bad("expire-after is for after-first-use users, and they need it")
	}
	if o.Kind == KindAfterFirstUse && (o.ExpireAfter < time.Minute || o.ExpireAfter > MaxExpireAfter || o.ExpireAfter%time.Minute != 0) {
		return bad("expire-after must be whole minutes, 1 to %d", int(MaxExpireAfter/time.Minute))
	}
	switch o.Kind {
	case KindUser, KindDuress:
		if schedule || validity || o.Uses != 0 {
			return bad("a %s code takes no schedule, validity or uses", o.Kind)
		}
	case KindNonAccess:
		if schedule || validity || o.Uses != 0 || o.TwoFactor {
			return bad("a non-access user takes no schedule, validity, uses or two-factor: it opens nothing")
		}
	case KindAfterFirstUse:
		if schedule || o.Uses != 0 {
			return bad("an after-first-use user takes no schedule or uses")
		}
	case KindScheduled:
		if o.Weekdays == 0 {
			return bad("a scheduled code needs at least one weekday")
		}
		if o.Uses != 0 {
			return bad("a scheduled code takes no uses")
		}
	case KindExpiring:
		if !validity {
			return bad("an expiring code needs valid-from or valid-until")
		}
		if schedule || o.Uses != 0 {
			return bad("an expiring code takes no schedule or uses (use scheduled)")
		}
	case KindOneTime, KindLimited:
		if schedule {
			return bad("a %s code takes no schedule", o.Kind)
		}
		if o.Kind == KindOneTime {
			if o.Uses > 1 {
				return bad("a one-time code has one use")
			}
			o.Uses = 1
		} else if o.Uses < 1 {
			return bad("a limited code needs uses >= 1")
		}
	}
	return o, nil
}

// inWindow reports whether now falls in the weekly schedule (see
// AddOptions) in loc.
func inWindow(w Weekdays, from, until TimeOfDay, now time.Time, loc *time.Location) bool {
	t := now.In(loc)
	m := TimeOfDay(t.Hour()*60 + t.Minute())
	day := t.Weekday()
	switch {
	case from == until:
		return w.Has(day)
	case from < until:
		return w.Has(day) && m >= from && m < until
	default: // crosses midnight
		yesterday := (day + 6) % 7
		return (w.Has(day) && m >= from) || (w.Has(yesterday) && m < until)
	}
}

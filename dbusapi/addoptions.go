package dbusapi

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/dbusapi/wire"
)

// Bounds on option values, checked before anything parses them, so a
// hostile caller cannot make lockd work or answer in proportion to what
// it sends.
const (
	maxOptionString = 64
	// maxMicros is 9999-12-31T23:59:59Z in µs: later instants are not
	// validity bounds but mistakes (or overflows of int64 µs).
	maxMicros = 253402300799999999
)

// parseAddOptions reads Codes1.Add's options. The store validates the
// combination (codes.AddOptions); this checks keys, types and bounds. Each
// error is one sentence: the key and what it wants (busctl users read it
// as it is), never the value sent.
func parseAddOptions(opts map[string]dbus.Variant) (codes.AddOptions, *dbus.Error) {
	o := codes.AddOptions{Kind: codes.KindUser}
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the first bad key reported is always the same one
	for _, k := range keys {
		if err := setOption(&o, k, opts[k]); err != nil {
			return codes.AddOptions{}, err
		}
	}
	return o, nil
}

func setOption(o *codes.AddOptions, key string, v dbus.Variant) *dbus.Error {
	var err error
	switch key {
	case wire.OptKind:
		var s string
		if s, err = optString(key, v); err == nil {
			o.Kind = codes.Kind(s)
			if !o.Kind.Valid() {
				err = fmt.Errorf("option %s: want %s", key, codes.KindNames())
			}
		}
	case wire.OptWeekdays:
		o.Weekdays, err = optWeekdays(key, v)
	case wire.OptFrom, wire.OptUntil:
		var s string
		var t codes.TimeOfDay
		if s, err = optString(key, v); err == nil {
			if t, err = codes.ParseTimeOfDay(s); err != nil {
				err = fmt.Errorf("option %s: want a time of day HH:MM, 00:00 to 23:59", key)
			} else if key == wire.OptFrom {
				o.From = t
			} else {
				o.Until = t
			}
		}
	case wire.OptValidFrom:
		o.ValidFrom, err = optTime(key, v)
	case wire.OptValidUntil:
		o.ValidUntil, err = optTime(key, v)
	case wire.OptUses:
		u, ok := v.Value().(uint32)
		switch {
		case !ok:
			err = wrongType(key, "u", v)
		case u > codes.MaxUses:
			err = fmt.Errorf("option %s: at most %d", key, codes.MaxUses)
		default:
			o.Uses = int(u)
		}
	case wire.OptTwoFactor:
		b, ok := v.Value().(bool)
		if !ok {
			err = wrongType(key, "b", v)
		}
		o.TwoFactor = b
	case wire.OptVacation:
		b, ok := v.Value().(bool)
		if !ok {
			err = wrongType(key, "b", v)
		}
		o.Vacation = b
	case wire.OptExpireAfter:
		u, ok := v.Value().(uint32)
		switch {
		case !ok:
			err = wrongType(key, "u", v)
		case u < 1 || time.Duration(u)*time.Minute > codes.MaxExpireAfter:
			err = fmt.Errorf("option %s: minutes, 1 to %d", key, int(codes.MaxExpireAfter/time.Minute))
		default:
			o.ExpireAfter = time.Duration(u) * time.Minute
		}
	default:
		return invalidArgs("unknown option %.40q: want one of kind, weekdays, from, until, valid_from, valid_until, uses, two_factor, expire_after, vacation", key)
	}
	if err != nil {
		return invalidArgs("%v", err)
	}
	return nil
}

func optString(key string, v dbus.Variant) (string, error) {
	s, ok := v.Value().(string)
	if !ok {
		return "", wrongType(key, "s", v)
	}
	if len(s) > maxOptionString {
		return "", fmt.Errorf("option %s: at most %d bytes", key, maxOptionString)
	}
	return s, nil
}

// optWeekdays takes "mon,tue" or ["mon", "tue"].
func optWeekdays(key string, v dbus.Variant) (codes.Weekdays, error) {
	var s string
	switch x := v.Value().(type) {
	case string:
		s = x
	case []string:
		if len(x) > 7 {
			return 0, fmt.Errorf("option %s: at most 7 days", key)
		}
		s = strings.Join(x, ",")
	default:
		return 0, wrongType(key, "s or as", v)
	}
	if len(s) > maxOptionString {
		return 0, fmt.Errorf("option %s: at most %d bytes", key, maxOptionString)
	}
	w, err := codes.ParseWeekdays(s)
	if err != nil {
		// Said once, here: the store's text would say it again.
		return 0, fmt.Errorf("option %s: want days of mon tue wed thu fri sat sun, as \"mon,fri\" or [\"mon\", \"fri\"]", key)
	}
	return w, nil
}

// optTime takes µs since the epoch; 0 is none.
func optTime(key string, v dbus.Variant) (time.Time, error) {
	us, ok := v.Value().(uint64)
	if !ok {
		return time.Time{}, wrongType(key, "t", v)
	}
	if us > maxMicros {
		return time.Time{}, fmt.Errorf("option %s: %d µs is after the year 9999", key, us)
	}
	if us == 0 {
		return time.Time{}, nil
	}
	return time.UnixMicro(int64(us)), nil
}

func wrongType(key, want string, v dbus.Variant) error {
	return fmt.Errorf("option %s: want type %s, got %s", key, want, v.Signature())
}

package codes

import (
	"io"
	"log/slog"
	"path/filepath"
	"time"
)

// File names in the state directory.
const (
	DBName          = "codes.db"
	DeviceKeyName   = "device.key"
	SetupDigestName = "setup.digest"
)

// Options configures Open. Only Dir is required.
type Options struct {
	// Dir is the state directory (lockd --state-dir).
	Dir string
	// DeviceKeyPath overrides Dir/device.key. The setup code digest is
	// read from the same directory.
	DeviceKeyPath string
	// Now tells the time for what has no explicit now argument (Open,
	// management calls, audit times). Default time.Now.
	Now func() time.Time
	// Logger gets one line per notice, lockout and store failure; never
	// digits. Default: discard.
	Logger *slog.Logger
	// Location is the zone of schedules. Default time.Local.
	Location *time.Location
	// BuildTime is when this binary was built: a clock earlier than it is
	// not trusted for time-limited codes.
	BuildTime time.Time
	// ClockSynced, if set, is asked before a time-limited code is
	// accepted (for example: is systemd-timesyncd synchronised?).
	ClockSynced func() bool
	// Lockout configures keypad lockout; zero fields take the defaults.
	Lockout LockoutPolicy
	// Retention is how many audit events are kept. Default 10,000.
	Retention int
	// MaxSlots limits the number of non-admin codes; 0 means no limit.
	MaxSlots int
	// TwoFactorWindow is how long a two-factor user's accepted card
	// waits for the user's PIN. Default 20 s.
	TwoFactorWindow time.Duration
}

// LockoutPolicy: after Threshold consecutive wrong entries everything is
// refused for Base; each further wrong entry doubles it, up to Max.
//
// A granted entry resets the consecutive count, so that count alone lets
// anyone who holds a valid code (a guest) guess without end: four wrong
// entries, their own code, four more. Budget and Refill bound wrong
// entries however they are interleaved with granted ones: every wrong
// entry adds one to a budget that empties by one every Refill and that
// nothing else lowers. The Budget-th wrong entry in it locks out like the
// Threshold-th consecutive one, and each one beyond doubles the step, up
// to Max (see lockout.go).
type LockoutPolicy struct {
	Threshold int           // default 5
	Base      time.Duration // default 30 s
	Max       time.Duration // default 1 h
	Budget    int           // default 10
	Refill    time.Duration // default 1 h: one wrong entry forgotten per Refill
}

// Defaults.
const (
	DefaultThreshold = 5
	DefaultBase      = 30 * time.Second
	DefaultMax       = time.Hour
	DefaultBudget    = 10
	DefaultRefill    = time.Hour
	DefaultRetention = 10_000
	// DefaultTwoFactorWindow is Options.TwoFactorWindow's default.
	DefaultTwoFactorWindow = 20 * time.Second
)

func (o Options) withDefaults() Options {
	if o.DeviceKeyPath == "" {
		o.DeviceKeyPath = filepath.Join(o.Dir, DeviceKeyName)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Lockout.Threshold <= 0 {
		o.Lockout.Threshold = DefaultThreshold
	}
	if o.Lockout.Base <= 0 {
		o.Lockout.Base = DefaultBase
	}
	if o.Lockout.Max <= 0 {
		o.Lockout.Max = DefaultMax
	}
	if o.Lockout.Budget <= 0 {
		o.Lockout.Budget = DefaultBudget
	}
	if o.Lockout.Refill <= 0 {
		o.Lockout.Refill = DefaultRefill
	}
	if o.Lockout.Max < o.Lockout.Base {
		o.Lockout.Max = o.Lockout.Base
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.TwoFactorWindow <= 0 {
		o.TwoFactorWindow = DefaultTwoFactorWindow
	}
	return o
}

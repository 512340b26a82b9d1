// Package config reads lockd's TOML configuration strictly: an unknown key,
// a wrong type or an impossible value is an error naming the file, the line
// and the key.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// DefaultPath is where lockd looks for its configuration.
const DefaultPath = "/etc/lockd/lockd.toml"

// Config is the whole file. Durations are whole seconds (or milliseconds
// where the key ends in _ms), as in DESIGN.md.
type Config struct {
	Board      Board      `toml:"board"`
	Lock       Lock       `toml:"lock"`
	Keypad     Keypad     `toml:"keypad"`
	Bolt       Bolt       `toml:"bolt"`
	Door       Door       `toml:"door"`
	Indicators Indicators `toml:"indicators"`
	Codes      Codes      `toml:"codes"`
	Update     Update     `toml:"update"`
}

// Board is the [board] table.
type Board struct {
	// Sim runs lockd on the simulated board, as --sim does: the keypad and
	// bolt types and every other setting apply, the pins are the model's
	// (gpio/sim), and no GPIO chip is opened.
	Sim bool `toml:"sim"`
	// TamperPin is the case's tamper switch, closed while the case is
	// shut (empty: none); an open switch or a cut wire raises the tamper
	// alarm.
	TamperPin       string `toml:"tamper_pin"`
	TamperClosedLow bool   `toml:"tamper_closed_low"` // the switch pulls the pin low when closed
	// PowerPin is the supply's power-good (mains present) output (empty:
	// none); its loss raises the power alarm.
	PowerPin     string `toml:"power_pin"`
	PowerGoodLow bool   `toml:"power_good_low"` // the line is low while mains is present
}

// Lock is the [lock] table.
type Lock struct {
	AutoRelock int `toml:"auto_relock"` // seconds after the door closes, 0 = off
}

// Keypad is the [keypad] table.
type Keypad struct {
	Type       string   `toml:"type"`   // matrix | wiegand
	Layout     []string `toml:"layout"` // matrix rows as printed, e.g. ["123","456","789","*0#"]
	Rows       []string `toml:"rows"`   // matrix row pins (outputs)
	Cols       []string `toml:"cols"`   // matrix column pins (inputs, pulled up)
	DebounceMS int      `toml:"debounce_ms"`
	D0         string   `toml:"d0"` // Wiegand data 0
	D1         string   `toml:"d1"` // Wiegand data 1
	// ReaderD0 and ReaderD1 are a Wiegand card reader beside a matrix
	// keypad: both or neither ("" = no reader).
	ReaderD0 string `toml:"reader_d0"`
	ReaderD1 string `toml:"reader_d1"`
}

// Bolt is the [bolt] table.
type Bolt struct {
	Type          string `toml:"type"`           // motor | strike
	LockPin       string `toml:"lock_pin"`       // H-bridge input driving toward locked
	UnlockPin     string `toml:"unlock_pin"`     // H-bridge input driving toward unlocked
	LimitLocked   string `toml:"limit_locked"`   // switch closed at the locked end
	LimitUnlocked string `toml:"limit_unlocked"` // switch closed at the unlocked end
	MotorLowOn    bool   `toml:"motor_active_low"`
	LimitLowOn    bool   `toml:"limit_active_low"` // switches pull the pin low when closed
	TravelMS      int    `toml:"travel_timeout_ms"`
	StrikePin     string `toml:"strike_pin"`
	StrikeLowOn   bool   `toml:"strike_active_low"`
	Pulse         int    `toml:"pulse"` // strike: seconds open per unlock; 0 = hold until locked
}

// Door is the [door] table. An empty pin means no door sensor.
type Door struct {
	Pin        string `toml:"pin"`
	ClosedLow  bool   `toml:"closed_low"` // the reed switch pulls the pin low when the door is closed
	DebounceMS int    `toml:"debounce_ms"`
	// DoorAjar raises the ajar alarm when the door stays open this many
	// seconds; 0 = off.
	DoorAjar int `toml:"door_ajar"`
}

// Indicators is the [indicators] table; any pin may be empty.
type Indicators struct {
	Green  string `toml:"led_green"`
	Red    string `toml:"led_red"`
	Buzzer string `toml:"buzzer"`
}

// Codes is the [codes] table.
type Codes struct {
	LockoutAfter int `toml:"lockout_after"` // wrong entries before a lockout
	LockoutBase  int `toml:"lockout_base"`  // seconds of the first lockout
	LockoutMax   int `toml:"lockout_max"`   // seconds, cap of the doubling
	// LockoutBudget wrong entries, however they are interleaved with
	// granted ones, lock out like lockout_after in a row; one of them is
	// forgotten every LockoutRefill seconds of running time.
	LockoutBudget int    `toml:"lockout_budget"`
	LockoutRefill int    `toml:"lockout_refill"`
	Retention     int    `toml:"audit_retention"`
	TimeZone      string `toml:"timezone"` // for scheduled codes; "" = the system's
	// ClockSyncFile, when set, must exist for time-limited codes to be
	// honoured (systemd-timesyncd touches /run/systemd/timesync/synchronized
	// once the clock is synchronised).
	ClockSyncFile string `toml:"clock_sync_file"`
	// TwoFactorWindow is how many seconds a two-factor user's card waits
	// for the user's PIN.
	TwoFactorWindow int `toml:"two_factor_window"`
}

// Update is the [update] table of DESIGN.md.
type Update struct {
	Compatible  string `toml:"compatible"`
	Keys        string `toml:"keys"`
	Bootloader  string `toml:"bootloader"` // uboot | tryboot | sim | none
	FwEnvConfig string `toml:"fw_env_config"`
	SlotA       string `toml:"slot_a"`
	SlotB       string `toml:"slot_b"`
	Cmdline     string `toml:"cmdline"`
	TryBoots    int    `toml:"try_boots"`
	CommitAfter int    `toml:"commit_after"`
	Reboot      string `toml:"reboot"` // approve | window | auto
	Window      string `toml:"window"`
	// Autoboot is the Pi firmware's autoboot.txt (bootloader = "tryboot").
	Autoboot string `toml:"autoboot"`
	// VersionFile says which version the running root file system is:
	// os-release's VERSION_ID, or a file holding only the version. When it
	// is missing, the updater's own record of the booted slot is used.
	VersionFile string `toml:"version_file"`
	// Hawkbit is [update.hawkbit], the fleet server; an empty Server is off.
	Hawkbit Hawkbit `toml:"hawkbit"`
}

// Hawkbit is the [update.hawkbit] table: the Eclipse hawkBit server the
// lock polls (DDI API).
type Hawkbit struct {
	Server string `toml:"server"` // https://HOST[:PORT][/PATH]; "" = off
	Tenant string `toml:"tenant"`
	// ControllerID "" is derived from the device key (hawkbit.ControllerID).
	ControllerID string `toml:"controller_id"`
	// TokenFile holds the target or gateway token; root's, mode 0600.
	TokenFile string `toml:"token_file"`
	// CAFile "" trusts the system's CAs; else only these.
	CAFile     string `toml:"ca_file"`
	ClientCert string `toml:"client_cert"`
	ClientKey  string `toml:"client_key"`
}

// Default returns the configuration used for keys the file leaves out.
func Default() Config {
	return Config{
		Lock:   Lock{AutoRelock: 30},
		Keypad: Keypad{Type: "matrix", DebounceMS: 20},
		Bolt:   Bolt{Type: "motor", TravelMS: 4000, LimitLowOn: true, Pulse: 5},
		Board:  Board{TamperClosedLow: true},
		Door:   Door{ClosedLow: true, DebounceMS: 50, DoorAjar: 120},
		Codes:  Codes{LockoutAfter: 5, LockoutBase: 30, LockoutMax: 3600, LockoutBudget: 10, LockoutRefill: 3600, Retention: 10000, TwoFactorWindow: 20},
		Update: Update{
			Keys: "/etc/lockd/keys", Bootloader: "uboot", FwEnvConfig: "/etc/fw_env.config",
			SlotA: "/dev/mmcblk0p2", SlotB: "/dev/mmcblk0p3", Cmdline: "/proc/cmdline",
			TryBoots: 3, CommitAfter: 60, Reboot: "approve", Window: "02:00-04:00",
			Autoboot: "/boot/firmware/autoboot.txt", VersionFile: "/etc/os-release",
			Hawkbit: Hawkbit{Tenant: "DEFAULT", TokenFile: "/etc/lockd/hawkbit-token"},
		},
	}
}

// Load reads and checks the file at path on top of Default.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Config{}, fmt.Errorf("config: %s: %w: copy the annotated reference systemd/lockd.toml there "+
			"(make install does), name another with --config FILE, or try lockd --sim (the simulated board needs none)", path, fs.ErrNotExist)
	}
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return Parse(path, b)
}

// Parse decodes b (named path in errors) on top of Default and checks it.
func Parse(path string, b []byte) (Config, error) {
	c := Default()
	dec := toml.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, decodeError(path, err)
	}
	if err := c.Check(); err != nil {
		return Config{}, fmt.Errorf("config: %s: %w", path, err)
	}
	return c, nil
}

func decodeError(path string, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) && len(strict.Errors) > 0 {
		var lines []string
		for _, e := range strict.Errors {
			row, _ := e.Position()
			lines = append(lines, fmt.Sprintf("%s:%d: unknown key %q", path, row, strings.Join(e.Key(), ".")))
		}
		return fmt.Errorf("config: %s", strings.Join(lines, "; "))
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		key := strings.Join(de.Key(), ".")
		if m := wrongType.FindStringSubmatch(de.Error()); m != nil && key != "" {
			return fmt.Errorf("config: %s: %s: want %s, got %s (line %d)", path, key, goKind(m[2]), tomlKind(m[1]), row)
		}
		if key != "" {
			return fmt.Errorf("config: %s:%d: key %q: %s", path, row, key, strings.TrimPrefix(de.Error(), "toml: "))
		}
		return fmt.Errorf("config: %s:%d: %s", path, row, strings.TrimPrefix(de.Error(), "toml: "))
	}
	return fmt.Errorf("config: %s: %w", path, err)
}

// wrongType is go-toml's message for a value of the wrong type, which
// names Go's struct field and type: nothing a person edited.
var wrongType = regexp.MustCompile(`cannot decode TOML (\w+) into struct field \S+ of type (\S+)`)

// goKind says what a Go field type wants, in TOML's words.
func goKind(t string) string {
	switch {
	case t == "int":
		return "a whole number"
	case t == "bool":
		return "true or false"
	case t == "string":
		return "a string"
	case strings.HasPrefix(t, "[]"):
		return "a list [...]"
	case strings.HasPrefix(t, "config."):
		return "a table [" + strings.ToLower(strings.TrimPrefix(t, "config.")) + "]"
	}
	return t
}

// tomlKind names a TOML value kind with its article.
func tomlKind(k string) string {
	switch k {
	case "integer":
		return "a number"
	case "float":
		return "a decimal number"
	case "array":
		return "a list"
	case "inline", "table":
		return "a table"
	}
	return "a " + k
}

// Check validates values that decode but make no sense.
func (c *Config) Check() error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("key %q: %s", key, fmt.Sprintf(format, a...)))
	}
	if c.Lock.AutoRelock < 0 {
		bad("lock.auto_relock", "must be 0 (off) or a number of seconds, not %d", c.Lock.AutoRelock)
	}
	switch c.Keypad.Type {
	case "matrix", "wiegand":
	default:
		bad("keypad.type", "must be \"matrix\" or \"wiegand\", not %q", c.Keypad.Type)
	}
	if c.Keypad.DebounceMS < 1 || c.Keypad.DebounceMS > 500 {
		bad("keypad.debounce_ms", "must be 1..500, not %d", c.Keypad.DebounceMS)
	}
	switch c.Bolt.Type {
	case "motor", "strike":
	default:
		bad("bolt.type", "must be \"motor\" or \"strike\", not %q", c.Bolt.Type)
	}
	if c.Bolt.TravelMS < 100 || c.Bolt.TravelMS > 60000 {
		bad("bolt.travel_timeout_ms", "must be 100..60000, not %d", c.Bolt.TravelMS)
	}
	if c.Bolt.Pulse < 0 || c.Bolt.Pulse > 600 {
		bad("bolt.pulse", "must be 0..600 seconds, not %d", c.Bolt.Pulse)
	}
	if c.Door.DoorAjar < 0 || c.Door.DoorAjar > 86400 {
		bad("door.door_ajar", "must be 0 (off) or 1..86400 seconds, not %d", c.Door.DoorAjar)
	}
	if c.Door.DebounceMS < 1 || c.Door.DebounceMS > 2000 {
		bad("door.debounce_ms", "must be 1..2000, not %d", c.Door.DebounceMS)
	}
	if c.Codes.LockoutAfter < 1 || c.Codes.LockoutBase < 1 || c.Codes.LockoutMax < c.Codes.LockoutBase {
		bad("codes.lockout_*", "need lockout_after >= 1, lockout_base >= 1 and lockout_max >= lockout_base")
	}
	if c.Codes.LockoutBudget < 1 || c.Codes.LockoutBudget > 1000 || c.Codes.LockoutRefill < 60 || c.Codes.LockoutRefill > 7*24*3600 {
		bad("codes.lockout_budget", "need lockout_budget 1..1000 and lockout_refill 60..604800 seconds, not %d and %d",
			c.Codes.LockoutBudget, c.Codes.LockoutRefill)
	}
	if c.Codes.Retention < 100 {
		bad("codes.audit_retention", "must be at least 100, not %d", c.Codes.Retention)
	}
	if c.Codes.TwoFactorWindow < 5 || c.Codes.TwoFactorWindow > 300 {
		bad("codes.two_factor_window", "must be 5..300 seconds, not %d", c.Codes.TwoFactorWindow)
	}
	if (c.Keypad.ReaderD0 == "") != (c.Keypad.ReaderD1 == "") || (c.Keypad.ReaderD0 != "" && c.Keypad.Type != "matrix") {
		bad("keypad.reader_d0", "a card reader beside the keypad needs reader_d0 and reader_d1, and a matrix keypad (a Wiegand keypad reads cards itself)")
	}
	if c.Codes.TimeZone != "" {
		if _, err := time.LoadLocation(c.Codes.TimeZone); err != nil {
			bad("codes.timezone", "%v", err)
		}
	}
	switch c.Update.Bootloader {
	case "uboot", "tryboot", "sim", "none":
	default:
		bad("update.bootloader", "must be uboot, tryboot, sim or none, not %q", c.Update.Bootloader)
	}
	switch c.Update.Reboot {
	case "approve", "window", "auto":
	default:
		bad("update.reboot", "must be approve, window or auto, not %q", c.Update.Reboot)
	}
	if c.Update.TryBoots < 1 || c.Update.TryBoots > 9 {
		bad("update.try_boots", "must be 1..9 (the boot script counts one digit), not %d", c.Update.TryBoots)
	}
	if c.Update.CommitAfter < 1 {
		bad("update.commit_after", "must be at least 1 second, not %d", c.Update.CommitAfter)
	}
	if _, _, err := ParseWindow(c.Update.Window); err != nil {
		bad("update.window", "%v", err)
	}
	if h := c.Update.Hawkbit; h.Server != "" {
		if why := hawkbitServer(h.Server); why != "" {
			bad("update.hawkbit.server", "%s", why)
		}
		if h.Tenant == "" {
			bad("update.hawkbit.tenant", "must not be empty")
		}
		if (h.ClientCert == "") != (h.ClientKey == "") {
			bad("update.hawkbit.client_cert", "and client_key go together")
		}
	}
	return errors.Join(errs...)
}

// ParseWindow parses "HH:MM-HH:MM" into offsets from midnight. The window
// may cross midnight.
func ParseWindow(s string) (from, to time.Duration, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("want HH:MM-HH:MM, got %q", s)
	}
	if from, err = clockTime(a); err == nil {
		to, err = clockTime(b)
	}
	return from, to, err
}

func clockTime(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("want HH:MM, got %q", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// hawkbitServer says what is wrong with a fleet server's URL, "" when
// nothing: https, or http to this machine only (a test server), with no
// user, query or fragment.
func hawkbitServer(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return fmt.Sprintf("want https://HOST[:PORT][/PATH], not %q", raw)
	case u.Scheme == "https":
		return ""
	case u.Scheme == "http" && (u.Hostname() == "127.0.0.1" || u.Hostname() == "::1" || u.Hostname() == "localhost"):
		return ""
	}
	return fmt.Sprintf("must be https:// (plain http only to this machine), not %q", raw)
}

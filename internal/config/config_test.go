package config

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

func TestParseErrorsNameFileLineAndKey(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"unknown key", "[lock]\nauto_relock = 5\nauto_relok = 3\n", []string{"lockd.toml:3", `"lock.auto_relok"`, "unknown key"}},
		{"wrong type", "[lock]\n\nauto_relock = \"soon\"\n", []string{"lockd.toml: lock.auto_relock: want a whole number, got a string (line 3)"}},
		{"wrong type, a list", "[keypad]\nrows = \"GPIO17\"\n", []string{"lockd.toml: keypad.rows: want a list [...], got a string (line 2)"}},
		{"wrong type, a flag", "[bolt]\nmotor_active_low = 1\n", []string{"lockd.toml: bolt.motor_active_low: want true or false, got a number (line 2)"}},
		{"bad value", "[keypad]\ntype = \"usb\"\n", []string{"lockd.toml", "keypad.type", `"usb"`}},
		{"negative relock", "[lock]\nauto_relock = -1\n", []string{"lock.auto_relock"}},
		{"bad window", "[update]\nwindow = \"2am\"\n", []string{"update.window"}},
		{"bad zone", "[codes]\ntimezone = \"Mars/Olympus\"\n", []string{"codes.timezone"}},
		{"syntax", "[lock\n", []string{"lockd.toml:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("lockd.toml", []byte(tt.doc))
			if err == nil {
				t.Fatal("Parse accepted bad input")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "config: ") {
				t.Errorf("error %q does not start with the package name", err)
			}
		})
	}
}

// TestLoadMissing: a missing file says what to do instead, once.
func TestLoadMissing(t *testing.T) {
	_, err := Load("/nonexistent/lockd.toml")
	want := "config: /nonexistent/lockd.toml: file does not exist: copy the annotated reference systemd/lockd.toml there " +
		"(make install does), name another with --config FILE, or try lockd --sim (the simulated board needs none)"
	if err == nil || err.Error() != want || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load: %v\nwant %q, matching fs.ErrNotExist", err, want)
	}
}

func TestParseKeepsDefaults(t *testing.T) {
	c, err := Parse("x.toml", []byte("[lock]\nauto_relock = 0\n[update]\ncompatible = \"acme,door-2\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Lock.AutoRelock != 0 || c.Update.Compatible != "acme,door-2" {
		t.Errorf("values not read: %+v", c)
	}
	if c.Update.TryBoots != 3 || c.Keypad.DebounceMS != 20 || c.Update.Reboot != "approve" {
		t.Errorf("defaults lost: %+v", c)
	}
}

func TestParseWindow(t *testing.T) {
	from, to, err := ParseWindow("23:30-01:00")
	if err != nil || from.Minutes() != 23*60+30 || to.Hours() != 1 {
		t.Errorf("ParseWindow = %v %v %v", from, to, err)
	}
	for _, bad := range []string{"", "02:00", "25:00-01:00", "02:00-xx"} {
		if _, _, err := ParseWindow(bad); err == nil {
			t.Errorf("ParseWindow(%q) accepted", bad)
		}
	}
}

// TestShippedConfigParses: the example installed as /etc/lockd/lockd.toml
// is valid and names every pin of the reference wiring.
func TestShippedConfigParses(t *testing.T) {
	c, err := Load("../../systemd/lockd.toml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Keypad.Rows) != 4 || len(c.Keypad.Cols) != 3 || c.Bolt.LockPin == "" || c.Door.Pin == "" || c.Indicators.Green == "" {
		t.Errorf("shipped config lacks pins: %+v", c)
	}
}

func TestHawkbit(t *testing.T) {
	c, err := Parse("t.toml", []byte("[update.hawkbit]\nserver = \"https://fleet.example:8443/hawkbit\"\nclient_cert = \"/etc/lockd/c.pem\"\nclient_key = \"/etc/lockd/c.key\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if h := c.Update.Hawkbit; h.Tenant != "DEFAULT" || h.TokenFile != "/etc/lockd/hawkbit-token" || h.ControllerID != "" {
		t.Fatalf("%+v", h)
	}
	if c, err := Parse("t.toml", []byte("")); err != nil || c.Update.Hawkbit.Server != "" {
		t.Fatalf("off by default: %+v %v", c.Update.Hawkbit, err)
	}
	for _, bad := range []string{
		"server = \"http://fleet.example\"",
		"server = \"https://u:p@fleet.example\"",
		"server = \"fleet.example\"",
		"server = \"https://fleet.example\"\ntenant = \"\"",
		"server = \"https://fleet.example\"\nclient_cert = \"/c.pem\"",
		"servr = \"https://fleet.example\"",
	} {
		if _, err := Parse("t.toml", []byte("[update.hawkbit]\n"+bad+"\n")); err == nil || !strings.Contains(err.Error(), "hawkbit") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if _, err := Parse("t.toml", []byte("[update.hawkbit]\nserver = \"http://127.0.0.1:8080\"\n")); err != nil {
		t.Errorf("a local test server: %v", err)
	}
}

// TestAlarmKeys: door_ajar defaults to 120 s, 0 turns it off, a negative
// value is refused naming the key; the alarm inputs are optional.
func TestAlarmKeys(t *testing.T) {
	c, err := Parse("t.toml", []byte("[door]\ndoor_ajar = 0\n[board]\ntamper_pin = \"GPIO5\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Door.DoorAjar != 0 || c.Board.TamperPin != "GPIO5" || !c.Board.TamperClosedLow || c.Board.PowerPin != "" {
		t.Errorf("parsed %+v %+v", c.Door, c.Board)
	}
	if Default().Door.DoorAjar != 120 {
		t.Errorf("default door_ajar %d, want 120", Default().Door.DoorAjar)
	}
	if _, err := Parse("t.toml", []byte("[door]\ndoor_ajar = -1\n")); err == nil || !strings.Contains(err.Error(), "door.door_ajar") {
		t.Errorf("negative door_ajar: %v", err)
	}
}

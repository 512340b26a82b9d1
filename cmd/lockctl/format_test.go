package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/google/go-cmp/cmp"
)

func v(x any) dbus.Variant { return dbus.MakeVariant(x) }

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{-time.Second, "0s"},
		{time.Millisecond, "1s"}, // rounded up: a running lockout never reads 0s
		{42 * time.Second, "42s"},
		{4*time.Minute + 30*time.Second, "4m 30s"},
		{5 * time.Minute, "5m"},
		{time.Hour + 5*time.Minute + 9*time.Second, "1h 5m"},
		{time.Hour, "1h"},
		{49 * time.Hour, "2d 1h"},
	}
	for _, tt := range tests {
		if got := humanDuration(tt.d); got != tt.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestStatusHuman(t *testing.T) {
	now := time.Date(2026, 11, 3, 14, 0, 0, 0, time.Local)
	until := now.Add(4*time.Minute + 30*time.Second)
	props := map[string]dbus.Variant{
		"State": v("locked"), "DoorOpen": v(false), "HasDoor": v(true), "Provisioned": v(false),
		"LockedOutUntil": v(uint64(until.UnixMicro())), "Mode": v("idle"),
		"Health": v([]string{"keypad: no rows", "store: \x1b[31mred"}),
	}
	s := newLockStatus(props, now)
	uid := int64(0)
	s.Events = []logEntry{{ID: 7, Time: now.Add(-time.Minute), Kind: "locked", Source: "dbus", UID: &uid}}
	var b bytes.Buffer
	writeStatus(&b, s, painter{})
	want := `      State: locked
       Door: closed
Provisioned: no
             SETUP INCOMPLETE — run 'lockctl setup' or type * SETUP # on the keypad
    Lockout: 4m 30s (until 14:04:30)
Keypad mode: idle
     Health: keypad: no rows
             store: ?[31mred
Last events: 2026-11-03 13:59:00  locked           dbus        uid=0
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}

	// Provisioned, healthy, no lockout (a past one counts as none), no door sensor.
	props["Provisioned"], props["Health"], props["HasDoor"] = v(true), v([]string{}), v(false)
	props["LockedOutUntil"] = v(uint64(now.Add(-time.Second).UnixMicro()))
	s = newLockStatus(props, now)
	s.EventsError = "permission denied: reading io.lockd.Codes1 needs root or group lockd or lockd-admin"
	b.Reset()
	writeStatus(&b, s, painter{})
	for _, line := range []string{"Provisioned: yes\n", "Lockout: none\n", "Health: ok\n", "Door: no door sensor\n",
		"Last events: (cannot read the log: permission denied"} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("status lacks %q:\n%s", line, b.String())
		}
	}
	if strings.Contains(b.String(), "SETUP INCOMPLETE") {
		t.Errorf("a provisioned unit shows SETUP INCOMPLETE:\n%s", b.String())
	}
}

// TestStatusJammed: a jam is not "Health: ok": status says what happened
// and how to recover.
func TestStatusJammed(t *testing.T) {
	props := map[string]dbus.Variant{"State": v("jammed"), "Provisioned": v(true), "Mode": v("idle"), "Health": v([]string{})}
	var b bytes.Buffer
	writeStatus(&b, newLockStatus(props, time.Now()), painter{})
	want := "     Health: bolt: jammed: lockd stopped the motor and left the bolt where it is; " +
		"clear what blocks it, then run 'lockctl lock' or 'lockctl unlock'\n"
	if !strings.Contains(b.String(), want) {
		t.Errorf("status of a jammed lock lacks %q:\n%s", want, &b)
	}
}

func TestStatusJSON(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := newLockStatus(map[string]dbus.Variant{
		"State": v("unlocked"), "DoorOpen": v(true), "Provisioned": v(true),
		"LockedOutUntil": v(uint64(now.Add(90 * time.Second).UnixMicro())), "Mode": v("programming"),
		"OperatingMode": v("privacy"), "Alarms": v([]string{}),
	}, now)
	s.Events = []logEntry{}
	var b bytes.Buffer
	if err := printJSON(&b, s); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("%v:\n%s", err, b.String())
	}
	want := map[string]any{
		"state": "unlocked", "door_open": true, "has_door": true, "provisioned": true,
		"locked_out_until": now.Add(90 * time.Second).Format(time.RFC3339), "lockout_remaining_seconds": 90.0,
		"mode": "programming", "health": []any{}, "events": []any{},
		"operating_mode": "privacy", "alarms": []any{},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("status --json (-want +got):\n%s", diff)
	}
}

func TestLogEntry(t *testing.T) {
	at := time.Date(2026, 11, 3, 14, 2, 11, 0, time.Local)
	until := at.Add(30 * time.Second)
	tests := []struct {
		name     string
		id       uint64
		kind     string
		details  map[string]dbus.Variant
		wantLine string
		wantJSON string
	}{{
		name: "granted",
		id:   12,
		details: map[string]dbus.Variant{"kind": v("granted"), "time": v(uint64(at.UnixMicro())), "source": v("keypad"),
			"code_id": v(uint32(3)), "code_kind": v("user"), "slot": v(uint32(2)), "uid": v(int32(-1))},
		wantLine: "2026-11-03 14:02:11  granted          keypad      slot=2 kind=user",
		wantJSON: `{"id":12,"time":"` + at.Format(time.RFC3339) + `","kind":"granted","source":"keypad","code_id":3,"code_kind":"user","slot":2}`,
	}, {
		name: "live lockout with root caller",
		kind: "lockout",
		details: map[string]dbus.Variant{"time": v(uint64(at.UnixMicro())), "source": v("keypad"),
			"reason": v("too many wrong codes"), "until": v(uint64(until.UnixMicro())), "uid": v(int32(0))},
		wantLine: `2026-11-03 14:02:11  lockout          keypad      reason="too many wrong codes" until=2026-11-03 14:02:41 uid=0`,
		wantJSON: `{"time":"` + at.Format(time.RFC3339) + `","kind":"lockout","source":"keypad","reason":"too many wrong codes","uid":0,"until":"` + until.Format(time.RFC3339) + `"}`,
	}, {
		name: "audit details and unknown keys",
		id:   13,
		details: map[string]dbus.Variant{"kind": v("lockout"), "time": v(uint64(at.UnixMicro())),
			"details": v(map[string]string{"until": until.UTC().Format(time.RFC3339), "note": "x"}), "extra": v(int32(5))},
		wantLine: "2026-11-03 14:02:11  lockout          -           until=2026-11-03 14:02:41 extra=5 note=x",
		wantJSON: `{"id":13,"time":"` + at.Format(time.RFC3339) + `","kind":"lockout","until":"` + until.UTC().Format(time.RFC3339) + `","details":{"extra":5,"note":"x"}}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newLogEntry(tt.id, tt.kind, tt.details)
			if got := e.String(); got != tt.wantLine {
				t.Errorf("line\n got %q\nwant %q", got, tt.wantLine)
			}
			var b bytes.Buffer
			a := &app{json: true, stdout: &b}
			if err := a.printEntry(e); err != nil {
				t.Fatal(err)
			}
			if got := b.String(); got != tt.wantJSON+"\n" {
				t.Errorf("json\n got %s\nwant %s", got, tt.wantJSON)
			}
		})
	}
}

func TestSameEvent(t *testing.T) {
	at := time.UnixMicro(1_800_000_000_123_456)
	logged := newLogEntry(5, "", map[string]dbus.Variant{"kind": v("locked"), "time": v(uint64(at.UnixMicro())), "source": v("dbus")})
	live := newLogEntry(0, "locked", map[string]dbus.Variant{"time": v(uint64(at.UnixMicro())), "source": v("dbus")})
	if !sameEvent(logged, live) {
		t.Error("a logged event and its signal differ")
	}
	live.Time = live.Time.Add(time.Microsecond)
	if sameEvent(logged, live) {
		t.Error("events a microsecond apart are the same")
	}
}

func TestCodeTable(t *testing.T) {
	used := time.Date(2026, 11, 2, 8, 15, 0, 0, time.Local)
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.Local)
	raw := []struct {
		id    uint32
		label string
		d     map[string]dbus.Variant
	}{
		{1, "", map[string]dbus.Variant{"kind": v("admin"), "enabled": v(true), "uses": v(uint32(0))}},
		{4, "cleaner\tTue", map[string]dbus.Variant{"kind": v("scheduled"), "slot": v(uint32(2)), "enabled": v(true),
			"weekdays": v("mon,tue"), "from": v("08:00"), "until": v("12:00"), "uses": v(uint32(3)),
			"last_used": v(uint64(used.UnixMicro()))}},
		{5, "guest", map[string]dbus.Variant{"kind": v("limited"), "slot": v(uint32(3)), "enabled": v(false),
			"valid_from": v(uint64(from.UnixMicro())), "uses": v(uint32(1)), "uses_left": v(uint32(4))}},
	}
	var list []codeInfo
	for _, r := range raw {
		list = append(list, newCodeInfo(r.id, r.label, r.d))
	}
	var b bytes.Buffer
	writeCodeTable(&b, list)
	want := `SLOT  LABEL        KIND       SCHEDULE               ENABLED  USES        LAST-USED
-     -            admin      always                 yes      0           never
2     cleaner?Tue  scheduled  mon,tue 08:00-12:00    yes      3           2026-11-02 08:15
3     guest        limited    from 2026-12-01 00:00  no       1 (4 left)  never
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("code list (-want +got):\n%s", diff)
	}
	b.Reset()
	if err := printJSON(&b, list[2:]); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	wantJSON := []map[string]any{{"id": 5.0, "label": "guest", "slot": 3.0, "kind": "limited", "enabled": false,
		"valid_from": from.Format(time.RFC3339), "uses": 1.0, "uses_left": 4.0, "last_used": nil}}
	if diff := cmp.Diff(wantJSON, got); diff != "" {
		t.Errorf("code list --json (-want +got):\n%s", diff)
	}
	b.Reset()
	writeCodeTable(&b, nil)
	if b.String() != "No codes.\n" {
		t.Errorf("empty list: %q", b.String())
	}
}

func TestAddOptions(t *testing.T) {
	validUntil := time.Date(2026, 12, 24, 18, 0, 0, 0, time.FixedZone("", 3600))
	localDay := time.Date(2026, 12, 1, 0, 0, 0, 0, time.Local)
	tests := []struct {
		name string
		f    addFlags
		want map[string]any
	}{
		{"default user", addFlags{uses: -1}, map[string]any{"kind": "user"}},
		{"schedule implies scheduled", addFlags{weekdays: "mon,tue", from: "08:00", until: "17:30", uses: -1},
			map[string]any{"kind": "scheduled", "weekdays": "mon,tue", "from": "08:00", "until": "17:30"}},
		{"one use implies one-time", addFlags{uses: 1}, map[string]any{"kind": "one-time", "uses": uint32(1)}},
		{"uses imply limited", addFlags{uses: 5, validUntil: "2026-12-24T18:00:00+01:00"},
			map[string]any{"kind": "limited", "uses": uint32(5), "valid_until": uint64(validUntil.UnixMicro())}},
		{"validity implies expiring", addFlags{validFrom: "2026-12-01", uses: -1},
			map[string]any{"kind": "expiring", "valid_from": uint64(localDay.UnixMicro())}},
		{"explicit kind wins", addFlags{kind: "duress", uses: -1}, map[string]any{"kind": "duress"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := tt.f.options("code add")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]any{}
			for k, x := range o {
				got[k] = x.Value()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadCodeLines(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		{in: "1234\n", want: "1234"},
		{in: "1234", want: "1234"},
		{in: "1234\r\n1234\r\n", want: "1234"},
		{in: " 1234 \n\n", want: "1234"},
		{in: "1234\n1234\nignored\n", want: "1234"},
		{in: "1234\n4321\n", wantErr: "do not match"},
		{in: "", wantErr: "no code on stdin"},
		{in: "\n1234\n", wantErr: "no code on stdin"},
		{in: strings.Repeat("1", maxCodeLine+10) + "\n", wantErr: "longer than"},
	}
	for _, tt := range tests {
		got, err := readCodeLines(strings.NewReader(tt.in), "code")
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestExplain(t *testing.T) {
	tests := []struct {
		iface, method string
		err           error
		want          string
	}{
		{ifaceLock, "Lock", dbus.Error{Name: "org.freedesktop.DBus.Error.AccessDenied", Body: []any{"Rejected send message, 2 matched rules"}},
			"permission denied: io.lockd.Lock1.Lock needs root or group lockd-admin"},
		{ifaceProps, "GetAll", &dbus.Error{Name: "org.freedesktop.DBus.Error.AccessDenied"},
			"permission denied: reading org.freedesktop.DBus.Properties needs root or group lockd or lockd-admin"},
		{ifaceCodes, "Add", dbus.Error{Name: "org.freedesktop.DBus.Error.InvalidArgs", Body: []any{"codes: code too easy to guess: its digits are a sequence, straight up or down"}},
			"code too easy to guess: its digits are a sequence, straight up or down"},
		{ifaceCodes, "Add", dbus.Error{Name: "org.freedesktop.DBus.Error.InvalidArgs", Body: []any{"codes: add: code already in use; counted as a wrong entry"}},
			"code already in use; counted as a wrong entry"},
		{ifaceCodes, "Add", dbus.Error{Name: "io.lockd.Error.Unprovisioned", Body: []any{"no admin code yet"}},
			"no admin code yet (run 'lockctl setup' first)"},
		{ifaceLock, "Lock", dbus.Error{Name: "org.freedesktop.DBus.Error.ServiceUnknown", Body: []any{"The name is not activatable"}},
			"lockd is not running on this bus (io.lockd.Lock1 has no owner)"},
		{ifaceLock, "Lock", dbus.Error{Name: "org.freedesktop.DBus.Error.Failed", Body: []any{"motor stalled"}},
			"io.lockd.Lock1.Lock: motor stalled"},
	}
	for _, tt := range tests {
		if got := explain(tt.iface, tt.method, tt.err).Error(); got != tt.want {
			t.Errorf("%s.%s %v:\n got %q\nwant %q", tt.iface, tt.method, tt.err, got, tt.want)
		}
	}
	err := retarget(explain(ifaceProps, "GetAll", dbus.Error{Name: "org.freedesktop.DBus.Error.AccessDenied"}), ifaceLock)
	if want := "permission denied: reading io.lockd.Lock1 needs root or group lockd or lockd-admin"; err.Error() != want {
		t.Errorf("retarget: %q, want %q", err, want)
	}
	if !doorOpenRefusal(explain(ifaceLock, "Lock", dbus.Error{Name: "io.lockd.Error.DoorOpen", Body: []any{"the door is open"}})) {
		t.Error("DoorOpen not recognised")
	}
	if !missingInterface(explain(ifaceSim, "Press", dbus.Error{Name: "org.freedesktop.DBus.Error.UnknownInterface"})) {
		t.Error("UnknownInterface not recognised")
	}
}

func TestUpdateStatus(t *testing.T) {
	hist := []map[string]dbus.Variant{}
	for i := range 12 {
		hist = append(hist, map[string]dbus.Variant{"time": v(int64(1795000000 + i)), "event": v("installed"),
			"slot": v("B"), "version": v(fmt.Sprintf("1.%d.0", i))})
	}
	hist[11]["detail"] = v("slot B: sha256 mismatch")
	u := newUpdateProps(map[string]dbus.Variant{
		"Operation": v("writing"), "Progress": v(int32(42)), "LastError": v(""), "BootedSlot": v("A"),
		"Slots": v(map[string]map[string]dbus.Variant{
			"A": {"version": v("1.2.0"), "state": v("good"), "booted": v(true)},
			"B": {"version": v("1.3.0"), "state": v("installed"), "booted": v(false)},
		}),
		"Pending":  v(map[string]dbus.Variant{"version": v("1.3.0"), "slot": v("B"), "phase": v("installed"), "approved": v(false)}),
		"Waiting":  v("approval (lockctl update approve)"),
		"Policy":   v("approve"),
		"History":  v(hist),
		"Unknown1": v("ignored"),
	})
	var b bytes.Buffer
	writeUpdateStatus(&b, u, painter{})
	want := `  Booted slot: A
    Operation: writing
     Progress: 42%
        Slots: SLOT  STATE      BOOTED  COMMITTED  VERSION
               A     good       yes     -          1.2.0
               B     installed  no      -          1.3.0
      Pending: 1.3.0 in slot B (installed, not approved)
Reboot policy: approve
  Waiting for: approval (lockctl update approve)
   Last error: none
      History: `
	for i := 2; i < 12; i++ {
		if i > 2 {
			want += "               "
		}
		want += time.Unix(int64(1795000000+i), 0).Local().Format(timeLayout) + fmt.Sprintf("  installed    B 1.%d.0", i)
		if i == 11 {
			want += ": slot B: sha256 mismatch"
		}
		want += "\n"
	}
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("update status (-want +got):\n%s", diff)
	}
	if len(u.History) != 12 {
		t.Errorf("%d history entries kept, want all 12 (for --json)", len(u.History))
	}
	// Nothing pending, nothing running.
	u = newUpdateProps(map[string]dbus.Variant{"Operation": v("idle"), "Pending": v(map[string]dbus.Variant{})})
	if u.Pending != nil || !u.idle() {
		t.Errorf("empty Pending: %+v", u)
	}
}

func TestSanitize(t *testing.T) {
	if got := sanitize("ok\x1b[2J\ttab\u0085é"); got != "ok?[2J?tab?é" {
		t.Errorf("sanitize = %q", got)
	}
}

// TestMoveWatch: a state equal to the one before the call may be stale;
// only what follows a movement decides.
func TestMoveWatch(t *testing.T) {
	tests := []struct {
		target, before string
		seen           []string
		want           string // "ok", "" (still waiting) or part of the error
	}{
		{"unlocked", "locked", []string{"locked", "unlocking", "unlocked"}, "ok"},
		{"locked", "locked", []string{"locked"}, "ok"},
		{"unlocked", "jammed", []string{"jammed", "jammed"}, ""}, // the old jam, not yet moving
		{"unlocked", "jammed", []string{"jammed", "unlocking", "unlocked"}, "ok"},
		{"unlocked", "jammed", []string{"jammed", "unlocking", "jammed"}, "jammed"},
		{"unlocked", "locked", []string{"unlocking", "jammed"}, "jammed"},
		{"unlocked", "locked", []string{"jammed"}, "jammed"},
		{"locked", "unlocked", []string{"unlocked", "locking", "unlocked"}, "went back to unlocked"},
		{"locked", "unlocked", []string{"unlocked", "unlocked"}, ""},
	}
	for _, tt := range tests {
		m := &moveWatch{target: tt.target, before: tt.before}
		got := ""
		for _, st := range tt.seen {
			if done, err := m.observe(st); done {
				got = "ok"
				if err != nil {
					got = err.Error()
				}
				break
			}
		}
		if (tt.want == "" && got != "") || (tt.want != "" && !strings.Contains(got, tt.want)) {
			t.Errorf("%s from %s seeing %v: %q, want %q", tt.target, tt.before, tt.seen, got, tt.want)
		}
	}
}

// TestStatusModesAndAlarms: the operating mode and the alarms get their
// rows, with a hint to acknowledge; a lockd without them gets none, and
// --json says null.
func TestStatusModesAndAlarms(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := newLockStatus(map[string]dbus.Variant{"State": v("locked"), "Provisioned": v(true),
		"OperatingMode": v("vacation"), "Alarms": v([]string{"forced-open", "tamper"})}, now)
	var b bytes.Buffer
	writeStatus(&b, s, painter{})
	for _, want := range []string{"Operating mode: vacation", "Alarms: forced-open\n", "tamper\n", "lockctl alarm ack NAME"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	old := newLockStatus(map[string]dbus.Variant{"State": v("locked"), "Provisioned": v(true)}, now)
	writeStatus(&b, old, painter{})
	if strings.Contains(b.String(), "Operating mode") || strings.Contains(b.String(), "Alarms") {
		t.Errorf("rows for what an older lockd does not have:\n%s", b.String())
	}
	if old.Alarms != nil {
		t.Errorf("alarms %v from a lockd without them, want nil (null)", old.Alarms)
	}
}

package main

import (
	"slices"
	"testing"
)

// TestE2EModesAndAlarms runs lockctl against lockd --sim: the operating
// mode shown, set, refused when unknown (usage, nothing sent); no-remote
// refusing unlock; the simulated tamper switch raising an alarm that
// status shows, that an acknowledgement silences but keeps listed while
// the case is open, and that leaves when the case is shut.
func TestE2EModesAndAlarms(t *testing.T) {
	r := newRig(t)
	r.setup()
	if s := r.statusJSON(asRoot); s.OperatingMode != "normal" || s.Alarms == nil || len(s.Alarms) != 0 {
		t.Fatalf("new unit: mode %q, alarms %v; want normal, []", s.OperatingMode, s.Alarms)
	}
	wantOutput(t, r.want(0, "", "mode"), "Operating mode: normal")
	wantOutput(t, r.want(2, "", "mode", "holiday"), "unknown operating mode \"holiday\" (want normal, vacation, privacy, no-remote, passage)")
	wantOutput(t, r.want(0, "", "mode", "no-remote"), "Operating mode: no-remote")
	wantOutput(t, r.want(1, "", "unlock"), "no-remote", "lockctl mode")
	wantOutput(t, r.want(0, "", "--json", "mode", "normal"), `"operating_mode": "normal"`)
	wantOutput(t, r.want(0, "", "status"), "Operating mode: normal", "Alarms: none")

	ev := r.events()
	r.want(0, "", "sim", "tamper", "on")
	r.waitEvent(ev, "alarm")
	if s := r.statusJSON(asRoot); !slices.Equal(s.Alarms, []string{"tamper"}) {
		t.Fatalf("alarms %v with the case open, want tamper", s.Alarms)
	}
	wantOutput(t, r.want(0, "", "status"), "Alarms: tamper")
	wantOutput(t, r.want(0, "", "alarm", "ack", "tamper"), "stays listed")
	wantOutput(t, r.want(2, "", "alarm", "ack", "smoke"), "unknown alarm")
	wantOutput(t, r.want(1, "", "alarm", "ack", "power"), "not active")
	r.want(0, "", "sim", "tamper", "off")
	r.waitEvent(ev, "alarm-cleared")
	if s := r.statusJSON(r.reader()); s.Alarms == nil || len(s.Alarms) != 0 {
		t.Errorf("alarms %v after the case was shut, want none", s.Alarms)
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// wantOutput fails the test unless lockctl's output holds every want.
func wantOutput(t *testing.T, res result, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(res.stdout+res.stderr, w) {
			t.Errorf("output lacks %q:\n%s", w, res)
		}
	}
}

// wantStderr fails the test unless lockctl's stderr is exactly want.
func wantStderr(t *testing.T, res result, want string) {
	t.Helper()
	if res.stderr != want {
		t.Errorf("stderr %q, want %q", res.stderr, want)
	}
}

// statusJSON reads `lockctl --json status`.
func (r *rig) statusJSON(u who) lockStatus {
	r.t.Helper()
	res := r.wantAs(u, 0, "", "--json", "status")
	var s lockStatus
	if err := json.Unmarshal([]byte(res.stdout), &s); err != nil {
		r.t.Fatalf("status --json: %v\n%s", err, res)
	}
	return s
}

// TestE2ESetup: a new unit says SETUP INCOMPLETE, refuses codes, and is
// set up with the admin code read from stdin.
func TestE2ESetup(t *testing.T) {
	r := newRig(t)
	res := r.want(0, "", "status")
	wantOutput(t, res, "State: locked", "Provisioned: no", "SETUP INCOMPLETE — run 'lockctl setup' or type * SETUP # on the keypad",
		"Health: ok", "Last events:")
	if s := r.statusJSON(asRoot); s.Provisioned || s.State != "locked" {
		t.Errorf("status --json: %+v, want locked and not provisioned", s)
	}

	res = r.want(1, userCode+"\n", "code", "add", "--label", "early")
	wantOutput(t, res, "lockctl: ", "lockctl setup")

	res = r.want(1, adminCode+"\n"+"480614\n", "setup")
	wantOutput(t, res, "lockctl: admin code: the two codes on stdin do not match")
	res = r.want(1, "", "setup")
	wantOutput(t, res, "no code on stdin")
	res = r.want(1, "111111\n", "setup") // lockd's code rules: InvalidArgs with its reason
	if !strings.HasPrefix(res.stderr, "lockctl: ") || strings.Contains(res.stderr, "111111") {
		t.Errorf("weak admin code: want lockd's reason without the digits:\n%s", res)
	}
	if s := r.statusJSON(asRoot); s.Provisioned {
		t.Fatal("provisioned after refused setups")
	}

	res = r.want(0, adminCode+"\n", "setup")
	wantOutput(t, res, "setup complete")
	// Set up: setup refuses to replace the admin code; --change does.
	res = r.want(1, "583016\n", "setup")
	wantStderr(t, res, "lockctl: setup: this unit is already set up; to change its admin code run "+
		"'lockctl setup --change', or on the keypad type * ADMIN # 3 NEW # NEW #\n")
	res = r.want(0, "583016\n", "setup", "--change")
	wantOutput(t, res, "Admin code changed.")
	r.want(0, adminCode+"\n", "setup", "--change")
	res = r.want(0, "", "status")
	wantOutput(t, res, "Provisioned: yes")
	if strings.Contains(res.stdout, "SETUP INCOMPLETE") {
		t.Errorf("SETUP INCOMPLETE after setup:\n%s", res)
	}
	res = r.want(0, "", "log")
	wantOutput(t, res, "setup")
}

// TestE2ECodes: add from stdin, list, disable, enable, open the lock by
// typing the code on the simulated keypad, remove.
func TestE2ECodes(t *testing.T) {
	r := newRig(t)
	r.setup()
	res := r.want(0, userCode+"\n"+userCode+"\n", "--json", "code", "add", "--label", "cleaner")
	var added struct {
		ID   uint32 `json:"id"`
		Slot int64  `json:"slot"`
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &added); err != nil || added.ID == 0 || added.Slot == 0 || added.Kind != "user" {
		t.Fatalf("code add --json: %+v %v\n%s", added, err, res)
	}
	slot := strconv.FormatInt(added.Slot, 10)
	res = r.want(0, "7349\n", "code", "add", "--label", "dog walker", "--weekdays", "mon,wed", "--from", "08:00", "--until", "09:30")
	wantOutput(t, res, fmt.Sprintf("Added a scheduled code in keypad slot %d.\n", added.Slot+1))
	// Refusals are one sentence each, without lockd's internal prefixes;
	// a collision keeps saying what it cost.
	res = r.want(1, userCode+"\n", "code", "add", "--label", "again")
	wantStderr(t, res, "lockctl: code already in use; counted as a wrong entry\n")
	res = r.want(1, userCode+"1\n", "code", "add", "--label", "longer")
	wantStderr(t, res, "lockctl: code starts or ends another code, so the keypad could not tell them apart: choose other digits; counted as a wrong entry\n")
	res = r.want(1, "12\n", "code", "add", "--label", "short")
	wantStderr(t, res, "lockctl: code too short: a user code needs at least 4 digits, the admin code at least 6\n")
	r.want(2, "5318\n", "code", "add", "--kind", "frob")

	res = r.want(0, "", "code", "list")
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "SLOT  LABEL") {
		t.Fatalf("code list: want a header, admin and two codes:\n%s", res)
	}
	wantOutput(t, res, "admin", "cleaner", "dog walker", "mon,wed 08:00-09:30", "never")
	if strings.Contains(res.stdout, userCode) || strings.Contains(res.stdout, adminCode) {
		t.Fatalf("code list shows digits:\n%s", res)
	}

	enabled := func() bool {
		res := r.want(0, "", "--json", "code", "list")
		var list []codeInfo
		if err := json.Unmarshal([]byte(res.stdout), &list); err != nil {
			t.Fatalf("code list --json: %v\n%s", err, res)
		}
		for _, c := range list {
			if c.ID == added.ID {
				return c.Enabled
			}
		}
		t.Fatalf("code %d not listed:\n%s", added.ID, res)
		return false
	}
	res = r.want(0, "", "code", "disable", slot)
	wantOutput(t, res, "Disabled the code in keypad slot "+slot+" (cleaner).\n")
	if enabled() {
		t.Error("enabled after disable")
	}
	ev := r.events()
	r.want(0, "", "sim", "press", userCode+"#")
	r.waitEvent(ev, "denied")
	if s := r.statusJSON(asRoot); s.State != "locked" {
		t.Fatalf("a disabled code opened the lock: %+v", s)
	}

	r.want(0, "", "code", "enable", slot)
	if !enabled() {
		t.Error("disabled after enable")
	}
	res = r.want(0, "", "sim", "press", userCode+"#")
	if strings.Contains(res.stdout, userCode) {
		t.Errorf("sim press echoes the keys:\n%s", res)
	}
	r.waitEvent(ev, "unlocked") // through the scanner, the core and the motor
	if s := r.statusJSON(asRoot); s.State != "unlocked" {
		t.Fatalf("after typing the code: %+v, want unlocked", s)
	}
	res = r.want(0, "", "code", "list")
	for _, l := range strings.Split(res.stdout, "\n") {
		if strings.Contains(l, "cleaner") && strings.HasSuffix(l, "never") {
			t.Errorf("LAST-USED not set after use:\n%s", res)
		}
	}

	// The log names the code by its slot too.
	res = r.want(0, "", "log", "-n", "20")
	wantOutput(t, res, "code-disabled", "slot="+slot+" kind=user")
	if strings.Contains(res.stdout, "code=") {
		t.Errorf("log shows a second number for codes:\n%s", res)
	}

	r.want(0, "", "code", "remove", slot)
	res = r.want(0, "", "code", "list")
	if strings.Contains(res.stdout, "cleaner") {
		t.Errorf("removed code still listed:\n%s", res)
	}
	res = r.want(1, "", "code", "remove", slot)
	wantStderr(t, res, "lockctl: code remove: no code in keypad slot "+slot+" (see 'lockctl code list')\n")
	r.want(2, "", "code", "remove", "seven")
}

// TestE2ELockUnlock: lock and unlock wait for the bolt; an open door holds
// a lock back; a jam is reported.
func TestE2ELockUnlock(t *testing.T) {
	r := newRig(t)
	r.setup()
	res := r.want(0, "", "unlock")
	wantOutput(t, res, "Unlocked.")
	res = r.want(0, "", "--json", "lock")
	var moved map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &moved); err != nil || moved["state"] != "locked" {
		t.Fatalf("lock --json: %v %v\n%s", moved, err, res)
	}
	r.want(0, "", "lock") // already locked: nothing to wait for

	r.want(0, "", "unlock")
	r.want(0, "", "sim", "door", "open")
	res = r.want(0, "", "status")
	wantOutput(t, res, "Door: open")
	ev := r.events()
	res = r.want(1, "", "lock")
	wantOutput(t, res, "lockctl: lock pending: the door is open; lockd will lock as soon as it closes")
	r.want(0, "", "sim", "door", "closed")
	r.waitEvent(ev, "locked")
	if s := r.statusJSON(asRoot); s.State != "locked" || s.DoorOpen {
		t.Fatalf("after the door closed: %+v, want locked and closed", s)
	}

	r.want(0, "", "sim", "jam", "on")
	res = r.want(1, "", "unlock")
	wantOutput(t, res, "jammed")
	if s := r.statusJSON(asRoot); s.State != "jammed" {
		t.Errorf("state %q after a jam, want jammed", s.State)
	}
	r.want(0, "", "sim", "jam", "off")
	r.want(0, "", "unlock")
	r.want(2, "", "sim", "jam", "maybe")
	r.want(1, "", "sim", "press", "12X#") // a key the keypad lacks: lockd's InvalidArgs
}

// TestE2ELog: the audit log, its JSON form, and --follow seeing a live
// event after the existing ones, ended by SIGINT with status 0.
func TestE2ELog(t *testing.T) {
	r := newRig(t)
	r.setup()
	r.want(0, "", "unlock")
	r.want(0, "", "lock")

	res := r.want(0, "", "--json", "log")
	var entries []logEntry
	for _, l := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		var e logEntry
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("log --json line %q: %v", l, err)
		}
		entries = append(entries, e)
	}
	var kinds []string
	for _, e := range entries {
		kinds = append(kinds, e.Kind)
	}
	if !strings.Contains(strings.Join(kinds, " "), "unlocked") || entries[len(entries)-1].Kind != "locked" {
		t.Fatalf("log kinds %v: want the unlock and the lock, the lock last", kinds)
	}
	last := entries[len(entries)-1]
	if last.Source != "dbus" || last.UID == nil || *last.UID != 0 {
		t.Errorf("last entry %+v: want source dbus, uid 0", last)
	}
	res = r.want(0, "", "log", "-n", "2")
	if n := len(strings.Split(strings.TrimSpace(res.stdout), "\n")); n != 2 {
		t.Errorf("log -n 2 printed %d lines:\n%s", n, res)
	}
	res = r.want(0, "", "status")
	if n := strings.Count(res.stdout, "\n") - 8; n != statusEvents { // 8 rows before the events
		t.Errorf("status shows %d events, want %d:\n%s", n, statusEvents, res)
	}

	// --follow, as a member of group lockd (allowed to read and to receive).
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd, lines, stderr := r.follow(ctx, r.reader())
	next := func() string {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("log --follow ended early; stderr:\n%s", stderr.String())
			}
			return l
		case <-time.After(15 * time.Second):
			t.Fatalf("log --follow printed nothing for 15s; stderr:\n%s", stderr.String())
		}
		return ""
	}
	for range entries {
		next() // the existing entries
	}
	r.want(0, "", "unlock")
	if l := next(); !strings.Contains(l, "unlocking") && !strings.Contains(l, "unlocked") {
		t.Errorf("first live line %q: want the unlock", l)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("log --follow on SIGINT: %v, want exit 0; stderr:\n%s", err, stderr.String())
	}
}

// TestE2EUpdate: this lockd has no io.lockd.Update1 yet; every update
// command says so and exits 1.
// TestE2EUpdate: lockd --sim serves Update1 with its simulated unit;
// lockctl reads it, and lockd refuses what is no bundle (the full install
// path is TestE2EUpdateReal's).
func TestE2EUpdate(t *testing.T) {
	r := newRig(t)
	res := r.want(0, "", "update", "status")
	wantOutput(t, res, "Booted slot: A", "Operation: idle", "Pending: none")
	bundle := filepath.Join(t.TempDir(), "update.bundle")
	if err := os.WriteFile(bundle, []byte("not a bundle"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Refused either way: the simulated unit may have no trusted key.
	res = r.want(1, "", "update", "install", bundle)
	if !strings.Contains(res.stderr, "lockctl: update install: bundle: not a lockd bundle") &&
		!strings.Contains(res.stderr, "lockctl: update install: trusted keys: bundle: no trusted keys") {
		t.Errorf("install of a non-bundle:\n%s", res)
	}
	for _, sub := range []string{"approve", "reject"} {
		res := r.want(1, "", "update", sub)
		wantOutput(t, res, "lockctl: update "+sub+": no update is pending")
	}
	r.want(2, "", "update", "install")
	res = r.want(1, "", "update", "install", filepath.Join(t.TempDir(), "missing"))
	wantOutput(t, res, "no such file")
}

// TestE2EPermissions: the policy and lockd decide; lockctl explains.
// Nobody without groups may not even read; group lockd may read but not
// change anything; lockd-admin may do everything.
func TestE2EPermissions(t *testing.T) {
	r := newRig(t)
	r.setup()
	mutating := [][]string{
		{"lock"}, {"unlock"}, {"code", "remove", "1"}, {"code", "enable", "1"}, {"code", "disable", "1"},
		{"code", "reset-lockout"}, {"sim", "press", "1"}, {"sim", "door", "open"}, {"sim", "jam", "on"},
		{"mode", "vacation"}, {"alarm", "ack", "tamper"}, {"sim", "tamper", "on"},
	}
	for _, u := range []who{nobody, r.reader()} {
		for _, args := range mutating {
			res := r.wantAs(u, 1, "", args...)
			if !strings.HasPrefix(res.stderr, "lockctl: permission denied: ") || !strings.Contains(res.stderr, "needs root or group lockd-admin") {
				t.Errorf("as %s: want permission denied naming lockd-admin:\n%s", u.name, res)
			}
		}
		for _, stdinArgs := range [][]string{{"setup", "--change"}, {"code", "add"}} {
			res := r.wantAs(u, 1, "5318\n", stdinArgs...)
			wantOutput(t, res, "permission denied")
		}
	}
	if s := r.statusJSON(asRoot); s.State != "locked" || s.DoorOpen {
		t.Fatalf("denied calls changed the lock: %+v", s)
	}

	// The policy gives the groupless user nothing, reads included.
	res := r.wantAs(nobody, 1, "", "status")
	wantOutput(t, res, "lockctl: permission denied: reading io.lockd.Lock1 needs root or group lockd or lockd-admin")
	r.wantAs(nobody, 1, "", "log")
	// Group lockd reads state and the log, not the codes.
	res = r.wantAs(r.reader(), 0, "", "status")
	wantOutput(t, res, "State: locked", "Provisioned: yes", "Last events: ")
	r.wantAs(r.reader(), 0, "", "log")
	res = r.wantAs(r.reader(), 1, "", "code", "list")
	wantOutput(t, res, "permission denied: listing codes needs root or group lockd-admin")
	// lockd-admin may act.
	r.wantAs(r.admin(), 0, "", "unlock")
	r.wantAs(r.admin(), 0, "", "lock")
	r.wantAs(r.admin(), 0, "", "code", "list")
}

// TestE2EUsage: the real binary's usage errors exit 2; lockctl alone is
// lockctl status, as hostnamectl.
func TestE2EUsage(t *testing.T) {
	r := newRig(t)
	wantOutput(t, r.want(0, ""), "State: locked", "Health: ok")
	for _, args := range [][]string{{"frob"}, {"status", "--frob"}, {"code"}, {"sim", "door", "ajar"}} {
		res := r.want(2, "", args...)
		wantOutput(t, res, "usage: lockctl")
	}
	r.want(0, "", "help")
}

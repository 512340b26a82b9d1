package panel

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/lock"
)

func TestView(t *testing.T) {
	tests := []struct {
		name    string
		board   sim.BoardConfig
		status  lock.Status
		want    []string
		notWant []string
	}{
		{
			name:    "unprovisioned",
			status:  lock.Status{State: lock.StateLocked},
			want:    []string{"SETUP INCOMPLETE", "* SETUP # then NEW # NEW #", "48151623"},
			notWant: []string{"a-d"},
		},
		{
			name:    "provisioned, locked",
			board:   sim.BoardConfig{Start: sim.BoltLocked},
			status:  lock.Status{State: lock.StateLocked, Provisioned: true, Mode: "idle"},
			want:    []string{"LOCKED", "▕████████████████▏", "closed", "○ green", "○ red", "Buzzer   off", "Keypad   idle", "Lockout  none", "Relock   -", "q quit"},
			notWant: []string{"SETUP INCOMPLETE", "48151623", "obstacle"},
		},
		{
			name:   "moving",
			board:  sim.BoardConfig{Start: sim.BoltMid},
			status: lock.Status{State: lock.StateUnlocking, Provisioned: true},
			want:   []string{"MOVING (unlocking)", "▕████████░░░░░░░░▏"},
		},
		{
			name:   "jammed, programming, locked out, unhealthy",
			status: lock.Status{State: lock.StateJammed, Provisioned: true, Mode: "programming", LockedOutUntil: time.Now().Add(90 * time.Second), Health: map[string]string{"bolt": "jammed while unlocking"}},
			want:   []string{"JAMMED", "Keypad   programming", "LOCKED OUT 1:30 remaining", "⚠ bolt: jammed while unlocking"},
		},
		{
			name:   "unlocked, relock counting down, wrong entries left",
			status: lock.Status{State: lock.StateUnlocked, Provisioned: true, WrongLeft: 3, RelockAt: time.Now().Add(25 * time.Second)},
			want:   []string{"UNLOCKED", "Lockout  none · 3 more wrong entries lock the keypad", "Relock   locks in 0:25"},
		},
		{
			name:    "one wrong entry left",
			status:  lock.Status{State: lock.StateLocked, Provisioned: true, WrongLeft: 1},
			want:    []string{"Lockout  none · the next wrong entry locks the keypad"},
			notWant: []string{"more wrong entries"},
		},
		{
			name:   "operating mode and alarms",
			status: lock.Status{State: lock.StateLocked, Provisioned: true, OperatingMode: lock.ModePrivacy, Alarms: []lock.Alarm{lock.AlarmForcedOpen, lock.AlarmTamper}},
			want:   []string{"Mode     privacy", "Alarms   forced-open tamper · lockctl alarm ack NAME", "t tamper"},
		},
		{
			name:   "unknown",
			status: lock.Status{State: lock.StateUnknown, Provisioned: true},
			want:   []string{"UNKNOWN"},
		},
		{
			name:   "4x4 keypad",
			board:  sim.BoardConfig{Layout: sim.Layout4x4},
			status: lock.Status{Provisioned: true},
			want:   []string{"│ 1 │ 2 │ 3 │ A │", "│ * │ 0 │ # │ D │", "a-d keypad"},
		},
		{
			name:   "strike",
			board:  sim.BoardConfig{Strike: true},
			status: lock.Status{State: lock.StateLocked, Provisioned: true},
			want:   []string{"Strike   de-energised"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.board, tt.status)
			h.m.Update(refreshMsg{})
			v := h.m.View()
			for _, w := range tt.want {
				if !strings.Contains(v, w) {
					t.Errorf("view lacks %q:\n%s", w, v)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(v, w) {
					t.Errorf("view has %q:\n%s", w, v)
				}
			}
		})
	}
}

func TestViewFollowsTheBoard(t *testing.T) {
	h := newHarness(t, sim.BoardConfig{Start: sim.BoltLocked}, lock.Status{State: lock.StateLocked, Provisioned: true})
	h.board.Door.SetOpen(true)
	h.board.Motor.SetJam(true)
	if err := h.board.Green.Pin().Out(true); err != nil {
		t.Fatal(err)
	}
	if err := h.board.Buzzer.Pin().Out(true); err != nil {
		t.Fatal(err)
	}
	if err := h.board.Matrix.Press('#'); err != nil {
		t.Fatal(err)
	}
	h.m.Update(refreshMsg{})
	v := h.m.View()
	for _, w := range []string{"Door     OPEN", "● green", "○ red", "♪ on", "obstacle", "[#]"} {
		if !strings.Contains(v, w) {
			t.Errorf("view lacks %q:\n%s", w, v)
		}
	}
	if !h.m.tickFast {
		t.Error("a held key did not speed up the redraw tick")
	}
}

func TestEventsShown(t *testing.T) {
	h := newHarness(t, sim.BoardConfig{}, lock.Status{Provisioned: true})
	at := time.Date(2026, 11, 5, 10, 0, 0, 0, time.Local)
	for i := range 12 {
		h.m.Update(eventMsg(lock.Event{Kind: lock.EventDenied, Time: at.Add(time.Duration(i) * time.Second),
			Source: lock.SourceKeypad, Reason: lock.ReasonUnknown, Slot: 100 + i}))
	}
	h.m.Update(eventMsg(lock.Event{Kind: lock.EventGranted, Time: at.Add(time.Minute), Source: lock.SourceKeypad,
		CodeID: 7, CodeKind: "user", Slot: 2}))
	h.m.Update(eventMsg(lock.Event{Kind: lock.EventUnlocking, Time: at.Add(time.Minute), Source: lock.SourceDBus, UID: 1000}))
	h.m.Update(eventMsg(lock.Event{Kind: lock.EventAdminChanged, Time: at.Add(time.Minute), Source: lock.SourceKeypad,
		CodeID: 1, CodeKind: "admin"}))
	v := h.m.View()
	if n := len(h.m.events); n != maxEvents {
		t.Errorf("%d events kept, want %d", n, maxEvents)
	}
	for _, w := range []string{
		"10:01:00  granted          keypad      slot 2 (user)",
		"10:01:00  unlocking        dbus        uid 1000",
		"10:01:00  admin-changed    keypad      admin code\n",
		"slot 111",
	} {
		if !strings.Contains(v, w) {
			t.Errorf("view lacks %q:\n%s", w, v)
		}
	}
	if strings.Contains(v, "#7") || strings.Contains(v, "code 1") {
		t.Errorf("view names a code by its id:\n%s", v)
	}
	for i := range 5 { // the oldest ones scrolled away
		if s := fmt.Sprintf("slot %d", 100+i); strings.Contains(v, s) {
			t.Errorf("view still has %q", s)
		}
	}
}

func TestLongEventCut(t *testing.T) {
	h := newHarness(t, sim.BoardConfig{}, lock.Status{Provisioned: true})
	h.m.Update(tea.WindowSizeMsg{Width: 60, Height: 40})
	h.m.Update(eventMsg(lock.Event{Kind: lock.EventJammed, Source: lock.SourceDBus, UID: -1,
		Reason: strings.Repeat("the bolt did not reach its end ", 5)}))
	for _, l := range strings.Split(h.m.View(), "\n") {
		if n := len([]rune(l)); n > 60 {
			t.Errorf("line of %d columns on a 60-column terminal: %q", n, l)
		}
	}
	if !strings.Contains(h.m.View(), "…") {
		t.Error("long event not marked as cut")
	}
}

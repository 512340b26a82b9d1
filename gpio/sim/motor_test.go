package sim

import (
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// motorBench wires m as a driver would and returns a channel that receives
// after every change the model reports.
func motorBench(t *testing.T, m *Motor, pull gpio.Pull) <-chan struct{} {
	t.Helper()
	changed := make(chan struct{}, 64)
	m.Notify(func() { changed <- struct{}{} })
	for _, p := range []*Pin{m.LockedSwitch(), m.UnlockedSwitch()} {
		if err := p.In(pull, gpio.BothEdges); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []*Pin{m.LockDir(), m.UnlockDir()} {
		if err := p.Out(gpio.Level(m.dirLow)); err != nil {
			t.Fatal(err)
		}
	}
	return changed
}

// settled waits until the bolt stands still.
func settled(t *testing.T, m *Motor, changed <-chan struct{}) {
	t.Helper()
	deadline := time.After(2 * time.Second)
	for m.Moving() != 0 {
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("bolt still moving at %v", m.Position())
		}
	}
}

func TestMotorTravelAndSwitches(t *testing.T) {
	const travel = 40 * time.Millisecond
	for _, low := range []bool{false, true} {
		name := map[bool]string{false: "active-high", true: "active-low"}[low]
		t.Run(name, func(t *testing.T) {
			var opts []MotorOption
			pull := gpio.PullDown
			if low {
				opts, pull = []MotorOption{DirActiveLow(), SwitchActiveLow()}, gpio.PullUp
			}
			m := NewMotor(travel, opts...)
			changed := motorBench(t, m, pull)
			on, off := gpio.Level(!low), gpio.Level(low)
			closed := func(p *Pin) bool { return p.Read() == on }
			if closed(m.LockedSwitch()) || !closed(m.UnlockedSwitch()) {
				t.Fatal("at the unlocked end only the unlocked switch must be closed")
			}
			start := time.Now()
			_ = m.LockDir().Out(on)
			if m.Moving() != 1 {
				t.Fatal("not moving toward locked")
			}
			if !m.UnlockedSwitch().WaitForEdge(time.Second) || closed(m.UnlockedSwitch()) {
				t.Fatal("unlocked switch did not open")
			}
			if !m.LockedSwitch().WaitForEdge(time.Second) || !closed(m.LockedSwitch()) {
				t.Fatal("locked switch did not close")
			}
			if took := time.Since(start); took < travel {
				t.Errorf("arrived after %s, faster than travel %s", took, travel)
			}
			settled(t, m, changed)
			if p := m.Position(); p != BoltLocked {
				t.Errorf("Position() = %v, want %v", p, BoltLocked)
			}
			_ = m.LockDir().Out(off)
			if m.ShortCircuit() {
				t.Error("short circuit reported for one direction at a time")
			}
		})
	}
}

func TestMotorShortCircuit(t *testing.T) {
	m := NewMotor(time.Second, StartAt(BoltMid))
	motorBench(t, m, gpio.PullDown)
	_ = m.LockDir().Out(gpio.High)
	_ = m.UnlockDir().Out(gpio.High)
	if !m.ShortCircuit() {
		t.Error("both inputs active: ShortCircuit() = false")
	}
	if m.Moving() != 0 {
		t.Error("a shorted bridge must not move the bolt")
	}
	_ = m.UnlockDir().Out(gpio.Low)
	if !m.ShortCircuit() || m.Moving() != 1 {
		t.Error("ShortCircuit must latch and one input must drive again")
	}
	_ = m.LockDir().Out(gpio.Low)
}

func TestMotorJam(t *testing.T) {
	const travel = 20 * time.Millisecond
	tests := []struct {
		name  string
		start float64
		dir   func(*Motor) *Pin
		want  float64 // where it stops jammed
		back  func(*Motor) *Pin
		wantB float64 // where it ends after driving back
	}{
		{"locking", BoltUnlocked, (*Motor).LockDir, BoltMid, (*Motor).UnlockDir, BoltUnlocked},
		{"unlocking", BoltLocked, (*Motor).UnlockDir, BoltMid, (*Motor).LockDir, BoltLocked},
		{"wedged", BoltMid, (*Motor).LockDir, BoltMid, (*Motor).UnlockDir, BoltMid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMotor(travel, StartAt(tt.start))
			changed := motorBench(t, m, gpio.PullDown)
			m.SetJam(true)
			if !m.Jammed() {
				t.Fatal("Jammed() = false")
			}
			_ = tt.dir(m).Out(gpio.High)
			settled(t, m, changed)
			if p := m.Position(); p != tt.want {
				t.Fatalf("jammed at %v, want %v", p, tt.want)
			}
			_ = tt.dir(m).Out(gpio.Low)
			_ = tt.back(m).Out(gpio.High)
			settled(t, m, changed)
			if p := m.Position(); p != tt.wantB {
				t.Fatalf("backed off to %v, want %v", p, tt.wantB)
			}
			_ = tt.back(m).Out(gpio.Low)
			m.SetJam(false)
			_ = tt.dir(m).Out(gpio.High)
			settled(t, m, changed)
			if p := m.Position(); p == BoltMid {
				t.Fatal("still stuck after the jam cleared")
			}
			_ = tt.dir(m).Out(gpio.Low)
		})
	}
}

func TestMotorStopsMidway(t *testing.T) {
	m := NewMotor(time.Second)
	changed := motorBench(t, m, gpio.PullDown)
	_ = m.LockDir().Out(gpio.High)
	_ = m.LockDir().Out(gpio.Low)
	settled(t, m, changed)
	p := m.Position()
	if p <= BoltUnlocked || p >= BoltMid {
		t.Fatalf("Position() = %v, want just past unlocked", p)
	}
	if m.UnlockedSwitch().Read() == gpio.High || m.LockedSwitch().Read() == gpio.High {
		t.Error("a switch is closed between the ends")
	}
	if m.Position() != p {
		t.Error("a stopped bolt moved")
	}
}

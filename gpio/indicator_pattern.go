package gpio

import (
	"fmt"
	"time"
)

// Pattern is a named way of showing the lock's state on the LEDs and
// buzzer.
type Pattern int

// Patterns. Looping ones (LockedOut, Unprovisioned, Programming, Jam, Error)
// play until replaced; the others play once, then the background pattern
// resumes (see Indicators).
const (
	PatternIdle            Pattern = iota // all off
	PatternKey                            // short click on a key press
	PatternGranted                        // green 2 s, short beep
	PatternDenied                         // red 2 s, long beep
	PatternLockedOut                      // red blinking
	PatternUnprovisioned                  // red and green alternating, slow
	PatternProgramming                    // green blinking
	PatternProgrammingStep                // short double beep
	PatternJam                            // red fast blink, a beep every 2 s
	PatternError                          // red double flash every 2 s
	PatternAlarm                          // an alarm was raised: red and buzzer, 5 s
	PatternAjar                           // the door was left open: three beeps
	PatternAlarmActive                    // an alarm nobody acknowledged (background)
	PatternVacation                       // operating mode vacation (background)
	PatternPrivacy                        // operating mode privacy (background)
	PatternPassage                        // operating mode passage (background)
	PatternNoRemote                       // operating mode no-remote (background)
	numPatterns
)

// String returns the pattern's name, as used in logs and config.
func (p Pattern) String() string {
	switch p {
	case PatternIdle:
		return "idle"
	case PatternKey:
		return "key"
	case PatternGranted:
		return "granted"
	case PatternDenied:
		return "denied"
	case PatternLockedOut:
		return "locked-out"
	case PatternUnprovisioned:
		return "unprovisioned"
	case PatternProgramming:
		return "programming"
	case PatternProgrammingStep:
		return "programming-step"
	case PatternJam:
		return "jam"
	case PatternError:
		return "error"
	case PatternAlarm:
		return "alarm"
	case PatternAjar:
		return "ajar"
	case PatternAlarmActive:
		return "alarm-active"
	case PatternVacation:
		return "mode-vacation"
	case PatternPrivacy:
		return "mode-privacy"
	case PatternPassage:
		return "mode-passage"
	case PatternNoRemote:
		return "mode-no-remote"
	}
	return fmt.Sprintf("Pattern(%d)", int(p))
}

// Step is one state of the outputs, held for For.
type Step struct {
	Green, Red, Buzzer bool
	For                time.Duration
}

// Sequence is how a Pattern plays: the Once steps, then the Loop steps
// over and over. A Sequence with no Loop ends after Once.
type Sequence struct {
	Once []Step
	Loop []Step
}

// validate rejects negative steps and loops that would spin.
func (s Sequence) validate() error {
	var loop time.Duration
	for _, st := range append(append([]Step(nil), s.Once...), s.Loop...) {
		if st.For < 0 {
			return fmt.Errorf("negative step %s", st.For)
		}
	}
	for _, st := range s.Loop {
		loop += st.For
	}
	if len(s.Loop) > 0 && loop == 0 {
		return fmt.Errorf("loop of zero length")
	}
	return nil
}

// DefaultPatterns returns the stock sequence of every Pattern.
func DefaultPatterns() map[Pattern]Sequence {
	ms := time.Millisecond
	var (
		red   = Step{Red: true}
		green = Step{Green: true}
		off   = Step{}
	)
	at := func(s Step, d time.Duration) Step { s.For = d; return s }
	beep := func(s Step) Step { s.Buzzer = true; return s }

	jam := []Step{at(beep(red), 100*ms), at(off, 100*ms)}
	for range 9 {
		jam = append(jam, at(red, 100*ms), at(off, 100*ms))
	}
	// An alarm is loud for 5 s, then the background (alarm-active) keeps
	// showing it silently: a buzzer that never stops gets unplugged.
	var alarm []Step
	for range 10 {
		alarm = append(alarm, at(beep(red), 250*ms), at(off, 250*ms))
	}
	// Backgrounds a person can tell apart at a glance: alarms flash red
	// three times, the modes flash once (vacation green, privacy red),
	// twice (no-remote green), or hold green (passage: the door is free).
	modes := map[Pattern]Sequence{
		PatternAlarmActive: {Loop: []Step{at(red, 200*ms), at(off, 200*ms), at(red, 200*ms), at(off, 200*ms),
			at(red, 200*ms), at(off, 2000*ms)}},
		PatternVacation: {Loop: []Step{at(green, 100*ms), at(off, 2900*ms)}},
		PatternPrivacy:  {Loop: []Step{at(red, 100*ms), at(off, 2900*ms)}},
		PatternPassage:  {Loop: []Step{at(green, 1000*ms)}},
		PatternNoRemote: {Loop: []Step{at(green, 100*ms), at(off, 100*ms), at(green, 100*ms), at(off, 2700*ms)}},
	}
	return map[Pattern]Sequence{
		PatternIdle:    {},
		PatternKey:     {Once: []Step{at(beep(off), 30*ms)}},
		PatternGranted: {Once: []Step{at(beep(green), 100*ms), at(green, 1900*ms)}},
		PatternDenied:  {Once: []Step{at(beep(red), 1000*ms), at(red, 1000*ms)}},
		PatternLockedOut: {Loop: []Step{
			at(red, 500*ms), at(off, 500*ms)}},
		PatternUnprovisioned: {Loop: []Step{
			at(red, 1000*ms), at(green, 1000*ms)}},
		PatternProgramming: {Loop: []Step{
			at(green, 500*ms), at(off, 500*ms)}},
		PatternProgrammingStep: {Once: []Step{
			at(beep(off), 80*ms), at(off, 80*ms), at(beep(off), 80*ms)}},
		PatternJam: {Loop: jam},
		PatternError: {Loop: []Step{
			at(red, 100*ms), at(off, 100*ms), at(red, 100*ms), at(off, 1700*ms)}},
		PatternAlarm:       {Once: alarm},
		PatternAjar:        {Once: []Step{at(beep(off), 100*ms), at(off, 100*ms), at(beep(off), 100*ms), at(off, 100*ms), at(beep(off), 100*ms)}},
		PatternAlarmActive: modes[PatternAlarmActive],
		PatternVacation:    modes[PatternVacation],
		PatternPrivacy:     modes[PatternPrivacy],
		PatternPassage:     modes[PatternPassage],
		PatternNoRemote:    modes[PatternNoRemote],
	}
}

// beeps is the one-shot Sequence of n beeps of length d with gaps of d,
// ending with a pause of 4*d so that repeated counts stay apart.
func beeps(n int, d time.Duration) Sequence {
	var s Sequence
	for range n {
		s.Once = append(s.Once, Step{Buzzer: true, For: d}, Step{For: d})
	}
	s.Once = append(s.Once, Step{For: 3 * d})
	return s
}

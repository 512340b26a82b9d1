package gpio_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/gpio/sim"
)

const ms = time.Millisecond

// fastPatterns replaces the slow stock patterns the tests use.
func fastPatterns() map[gpio.Pattern]gpio.Sequence {
	return map[gpio.Pattern]gpio.Sequence{
		gpio.PatternGranted:   {Once: []gpio.Step{{Green: true, Buzzer: true, For: 50 * ms}, {Green: true, For: 50 * ms}}},
		gpio.PatternDenied:    {Once: []gpio.Step{{Red: true, Buzzer: true, For: 40 * ms}}},
		gpio.PatternLockedOut: {Loop: []gpio.Step{{Red: true, For: 10 * ms}, {For: 10 * ms}}},
		// Long steps, so that a Show that waited for them would show.
		gpio.PatternProgramming: {Loop: []gpio.Step{{Green: true, For: time.Second}, {For: time.Second}}},
	}
}

type indRig struct {
	green, red, buzz *sim.Output
	drv              *gpio.Indicators
	changed          chan struct{}
	cancel           context.CancelFunc
	done             chan error

	mu      sync.Mutex
	updates int // OnChange calls
	stopped sync.Once
}

func startIndicators(t *testing.T, cfg gpio.IndicatorConfig) *indRig {
	t.Helper()
	r := &indRig{
		green: sim.NewOutput("GREEN", false), red: sim.NewOutput("RED", true),
		buzz: sim.NewOutput("BUZZER", false), changed: make(chan struct{}, 1),
		done: make(chan error, 1),
	}
	for _, o := range []*sim.Output{r.green, r.red, r.buzz} {
		o.Notify(func(bool) {
			select {
			case r.changed <- struct{}{}:
			default:
			}
		})
	}
	cfg.Green, cfg.Red, cfg.Buzzer, cfg.RedActiveLow = r.green.Pin(), r.red.Pin(), r.buzz.Pin(), true
	cfg.OnChange = func(g, rd, b bool) {
		r.mu.Lock()
		r.updates++
		r.mu.Unlock()
	}
	drv, err := gpio.NewIndicators(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.drv = drv
	ctx, cancel := context.WithCancel(t.Context())
	r.cancel = cancel
	go func() { r.done <- drv.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop ends Run and checks it returned nil; later calls do nothing.
func (r *indRig) stop(t *testing.T) {
	t.Helper()
	r.stopped.Do(func() {
		r.cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("Run = %v", err)
			}
		case <-time.After(time.Second):
			t.Error("Run did not return")
		}
	})
}

func (r *indRig) String() string {
	return fmt.Sprintf("green=%t red=%t buzzer=%t", r.green.On(), r.red.On(), r.buzz.On())
}

// until waits for the outputs to satisfy cond and returns how long it took.
func (r *indRig) until(t *testing.T, what string, cond func(g, rd, b bool) bool) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := time.After(2 * time.Second)
	for !cond(r.green.On(), r.red.On(), r.buzz.On()) {
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("waiting for %s: %s", what, r)
		}
	}
	return time.Since(start)
}

func TestIndicatorsOneShotReturnsToBackground(t *testing.T) {
	r := startIndicators(t, gpio.IndicatorConfig{Patterns: fastPatterns()})
	r.drv.Show(gpio.PatternGranted)
	r.until(t, "green and beep", func(g, rd, b bool) bool { return g && b && !rd })
	r.until(t, "beep over, green on", func(g, rd, b bool) bool { return g && !b })
	r.until(t, "idle background", func(g, rd, b bool) bool { return !g && !rd && !b })
	if g, rd, b := r.drv.State(); g || rd || b {
		t.Errorf("State() = %t %t %t, want all off", g, rd, b)
	}

	r.drv.SetBackground(gpio.PatternLockedOut)
	if r.drv.Background() != gpio.PatternLockedOut {
		t.Fatal("Background() did not change")
	}
	r.until(t, "red blink on", func(g, rd, b bool) bool { return rd })
	r.until(t, "red blink off", func(g, rd, b bool) bool { return !rd })
	r.drv.Show(gpio.PatternGranted)
	r.until(t, "granted over the background", func(g, rd, b bool) bool { return g && !rd })
	r.until(t, "background again", func(g, rd, b bool) bool { return !g && rd })

	r.mu.Lock()
	updates := r.updates
	r.mu.Unlock()
	if updates < 6 {
		t.Errorf("OnChange called %d times, want one per change", updates)
	}
}

func TestIndicatorsShowReplaces(t *testing.T) {
	r := startIndicators(t, gpio.IndicatorConfig{Patterns: fastPatterns()})
	r.drv.Show(gpio.PatternProgramming)
	r.until(t, "programming green", func(g, rd, b bool) bool { return g })
	r.drv.Show(gpio.PatternDenied)
	if took := r.until(t, "denied", func(g, rd, b bool) bool { return !g && rd && b }); took > 500*ms {
		t.Errorf("Show took %s: it waited for the running step", took)
	}
	// Denied is one-shot; Programming was shown, not the background, so
	// Idle follows.
	r.until(t, "idle", func(g, rd, b bool) bool { return !g && !rd && !b })

	r.drv.Show(gpio.PatternProgramming)
	r.until(t, "programming green", func(g, rd, b bool) bool { return g })
	r.drv.Show(gpio.PatternIdle)
	r.until(t, "Show(Idle) ends it", func(g, rd, b bool) bool { return !g })
}

func TestIndicatorsBeeps(t *testing.T) {
	const beep = 10 * ms
	r := startIndicators(t, gpio.IndicatorConfig{Beep: beep})
	r.drv.Beeps(0) // nothing
	r.drv.Beeps(3)
	r.until(t, "three beeps", func(bool, bool, bool) bool { return r.buzz.Transitions() >= 6 })
	// A fourth beep would start one gap later; make sure none does.
	time.Sleep(3 * beep)
	r.stop(t)
	if n := r.buzz.Transitions(); n != 6 {
		t.Errorf("buzzer switched %d times, want 6 (3 beeps)", n)
	}
}

func TestIndicatorsStopSwitchesOff(t *testing.T) {
	r := startIndicators(t, gpio.IndicatorConfig{Patterns: fastPatterns()})
	r.drv.SetBackground(gpio.PatternProgramming)
	r.until(t, "green", func(g, rd, b bool) bool { return g })
	r.stop(t)
	if r.green.On() || r.red.On() || r.buzz.On() {
		t.Errorf("after Run: %s, want all off", r)
	}
	// Run may run again once the last one returned.
	done, cancel := context.WithCancel(t.Context())
	cancel()
	if err := r.drv.Run(done); err != nil {
		t.Fatalf("Run after Run: %v", err)
	}
}

func TestIndicatorsRunTwice(t *testing.T) {
	r := startIndicators(t, gpio.IndicatorConfig{Patterns: fastPatterns()})
	r.drv.Show(gpio.PatternGranted)
	r.until(t, "running", func(g, rd, b bool) bool { return g })
	if err := r.drv.Run(t.Context()); err == nil || !strings.HasPrefix(err.Error(), "gpio: indicators:") {
		t.Fatalf("second Run = %v, want a gpio: indicators: error", err)
	}
}

func TestIndicatorsOptionalOutputs(t *testing.T) {
	buzz := sim.NewOutput("BUZZER", false)
	in, err := gpio.NewIndicators(gpio.IndicatorConfig{Buzzer: buzz.Pin(), Patterns: fastPatterns()})
	if err != nil {
		t.Fatal(err)
	}
	on := make(chan bool, 8)
	buzz.Notify(func(b bool) { on <- b })
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	in.Show(gpio.PatternGranted)
	if !<-on {
		t.Fatal("no beep")
	}
	if g, rd, _ := in.State(); g || rd {
		t.Errorf("absent LEDs report on: green=%t red=%t", g, rd)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestDefaultPatterns(t *testing.T) {
	looping := map[gpio.Pattern]bool{
		gpio.PatternLockedOut: true, gpio.PatternUnprovisioned: true, gpio.PatternProgramming: true,
		gpio.PatternJam: true, gpio.PatternError: true, gpio.PatternAlarmActive: true,
		gpio.PatternVacation: true, gpio.PatternPrivacy: true, gpio.PatternPassage: true, gpio.PatternNoRemote: true,
	}
	all := gpio.DefaultPatterns()
	names := map[string]bool{}
	for p := gpio.PatternIdle; p <= gpio.PatternNoRemote; p++ {
		s, ok := all[p]
		if !ok {
			t.Errorf("%s: no default sequence", p)
			continue
		}
		if n := p.String(); strings.HasPrefix(n, "Pattern(") || names[n] {
			t.Errorf("pattern %d: bad or duplicate name %q", int(p), n)
		}
		names[p.String()] = true
		if (len(s.Loop) > 0) != looping[p] {
			t.Errorf("%s: loops = %t, want %t", p, len(s.Loop) > 0, looping[p])
		}
		// Every default is valid as an override.
		if _, err := gpio.NewIndicators(gpio.IndicatorConfig{Patterns: map[gpio.Pattern]gpio.Sequence{p: s}}); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if len(all) != len(names) {
		t.Errorf("%d default patterns, %d named", len(all), len(names))
	}
	var green time.Duration
	for _, st := range all[gpio.PatternGranted].Once {
		if st.Green {
			green += st.For
		}
	}
	if green != 2*time.Second {
		t.Errorf("granted shows green for %s, want 2s", green)
	}
}

func TestIndicatorConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  gpio.IndicatorConfig
		want string
	}{
		{"negative beep", gpio.IndicatorConfig{Beep: -1}, "negative beep"},
		{"unknown pattern", gpio.IndicatorConfig{Patterns: map[gpio.Pattern]gpio.Sequence{99: {}}}, "unknown pattern"},
		{"negative step", gpio.IndicatorConfig{Patterns: map[gpio.Pattern]gpio.Sequence{
			gpio.PatternKey: {Once: []gpio.Step{{Buzzer: true, For: -ms}}}}}, "negative step"},
		{"zero loop", gpio.IndicatorConfig{Patterns: map[gpio.Pattern]gpio.Sequence{
			gpio.PatternJam: {Loop: []gpio.Step{{Red: true}, {}}}}}, "loop of zero length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := gpio.NewIndicators(tt.cfg)
			if err == nil || !strings.HasPrefix(err.Error(), "gpio: indicators: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewIndicators = %v, want a gpio: indicators: error about %q", err, tt.want)
			}
		})
	}
}

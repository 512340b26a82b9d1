package board

import (
	"testing"

	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/internal/config"
)

// TestAlarmInputsOnSimBoard: the simulated board's tamper switch and
// power-good line reach the drivers through the config keys, with the
// levels SimConfig sets; without the keys there are no inputs.
func TestAlarmInputsOnSimBoard(t *testing.T) {
	b, err := sim.NewBoard(sim.BoardConfig{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := Build(SimConfig(config.Default(), 4, 3), b.ByName, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if h.Tamper == nil || h.Power == nil {
		t.Fatal("no tamper or power input on the simulated board")
	}
	if h.Tamper.Alarm() || h.Power.Alarm() {
		t.Fatal("alarm with the case shut and mains present")
	}
	b.SetTamper(true)
	b.SetMains(false)
	if !h.Tamper.Alarm() || !h.Power.Alarm() {
		t.Errorf("tamper %t, power %t with the case open and mains lost; want both", h.Tamper.Alarm(), h.Power.Alarm())
	}

	c := SimConfig(config.Default(), 4, 3)
	c.Board.TamperPin, c.Board.PowerPin = "", ""
	b2, _ := sim.NewBoard(sim.BoardConfig{})
	h, err = Build(c, b2.ByName, quiet())
	if err != nil || h.Tamper != nil || h.Power != nil {
		t.Errorf("without the keys: %v, tamper %v, power %v", err, h.Tamper, h.Power)
	}
}

package board

import (
	"fmt"

	pgpio "periph.io/x/conn/v3/gpio"

	"lockd.dev/lockd/gpio"
	"lockd.dev/lockd/internal/config"
)

// buildAlarmInputs builds the optional tamper and power-good inputs (nil
// pins: not fitted). They are debounced like the door sensor.
func (h *Hardware) buildAlarmInputs(c config.Config, tamper, power pgpio.PinIO) error {
	var err error
	if tamper != nil {
		h.Tamper, err = gpio.NewAlarmInput(gpio.AlarmInputConfig{Name: "tamper", Pin: tamper, ActiveLow: c.Board.TamperClosedLow})
		if err != nil {
			return fmt.Errorf("board: %w", err)
		}
	}
	if power != nil {
		h.Power, err = gpio.NewAlarmInput(gpio.AlarmInputConfig{Name: "power", Pin: power, ActiveLow: c.Board.PowerGoodLow})
		if err != nil {
			return fmt.Errorf("board: %w", err)
		}
	}
	return nil
}

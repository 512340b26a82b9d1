package dbusapi

import (
	"context"
	"time"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
)

// CardReader is the simulated board's card reader (*sim.Board): it sends
// a card as a Wiegand frame, 26-bit or 34-bit when the facility needs
// it, through the electrical model to the real decoder.
type CardReader interface {
	PresentCard(ctx context.Context, facility, number uint32) error
}

// PresentCard holds a card to the simulated reader. What follows is the
// lock's: the decoder, the store, the bolt.
func (m sim1) PresentCard(msg dbus.Message, facility, number uint32) *dbus.Error {
	return m.s.simulate(msg, "PresentCard", func(ctx context.Context) *dbus.Error {
		r, ok := m.s.cfg.Sim.(CardReader)
		if !ok {
			return dbusError(wire.ErrFailed, "this simulated board has no card reader")
		}
		if facility > 0xffff || number > 0xffff {
			return invalidArgs("a card's facility and number are 0 to 65535 (26-bit cards: facility 0 to 255)")
		}
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := r.PresentCard(ctx, facility, number); err != nil {
			return callError(err)
		}
		return nil
	})
}

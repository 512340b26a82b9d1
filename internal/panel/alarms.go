package panel

import (
	"context"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"lockd.dev/lockd/gpio/sim"
	"lockd.dev/lockd/lock"
)

// tamperAction opens the simulated case (the tamper switch opens), or
// shuts it.
func tamperAction(b *sim.Board) action {
	return func(context.Context, func(tea.Msg)) tea.Msg {
		open := b.Tamper.Closed()
		b.SetTamper(open)
		if open {
			return noticeMsg{text: "case opened (tamper switch open)", bad: true}
		}
		return noticeMsg{text: "case shut"}
	}
}

// opMode shows the operating mode; anything but normal stands out.
func (ui *styles) opMode(m lock.OperatingMode) string {
	if m == "" || m == lock.ModeNormal {
		return "normal"
	}
	return ui.warn.Render(string(m))
}

// alarms shows the listed alarms, in red: each needs a person.
func (ui *styles) alarms(as []lock.Alarm) string {
	if len(as) == 0 {
		return ui.off.Render("none")
	}
	names := make([]string, len(as))
	for i, a := range as {
		names[i] = string(a)
	}
	return ui.bad.Render(strings.Join(names, " ")) + ui.off.Render(" · lockctl alarm ack NAME")
}

package panel

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"

	"lockd.dev/lockd/lock"
)

// styles are the panel's looks, all made by the renderer of the panel's
// own output: colour follows that terminal, and there is none when it is
// not one, when NO_COLOR is set or TERM is dumb (termenv's detection), so
// the view tests read plain text.
type styles struct {
	title, label, litKey, good, warn, bad, off, banner, help, plain lipgloss.Style
}

func newStyles(r *lipgloss.Renderer) *styles {
	return &styles{
		title:  r.NewStyle().Bold(true),
		label:  r.NewStyle().Faint(true).Width(9),
		litKey: r.NewStyle().Bold(true).Reverse(true).Foreground(lipgloss.Color("11")),
		good:   r.NewStyle().Foreground(lipgloss.Color("10")).Bold(true),
		warn:   r.NewStyle().Foreground(lipgloss.Color("11")).Bold(true),
		bad:    r.NewStyle().Foreground(lipgloss.Color("9")).Bold(true),
		off:    r.NewStyle().Faint(true),
		banner: r.NewStyle().Bold(true).Foreground(lipgloss.Color("15")).Background(lipgloss.Color("1")).Padding(0, 1),
		help:   r.NewStyle().Faint(true),
		plain:  r.NewStyle(),
	}
}

// barWidth is the bolt travel bar's length in cells.
const barWidth = 16

// View draws the panel from the model's last snapshot.
func (m *model) View() string {
	if m.quitting {
		return ""
	}
	var b strings.Builder
	b.WriteString(m.ui.title.Render("lockd simulator") + "  " + m.ui.off.Render(m.snap.now.Format("15:04:05")) + "\n\n")
	b.WriteString(lipgloss.JoinHorizontal(lipgloss.Top, m.keypadView(), "   ", m.statusView()) + "\n")
	if !m.snap.status.Provisioned {
		b.WriteString("\n" + m.ui.banner.Render("SETUP INCOMPLETE — enter * SETUP # then NEW # NEW #") + "\n")
		if m.setupCode != "" {
			b.WriteString(m.ui.warn.Render("setup code (simulation only): "+m.setupCode) + "\n")
		} else {
			b.WriteString(m.ui.warn.Render("setup code: on the unit's label (lockd factory-init)") + "\n")
		}
	}
	for _, w := range m.snap.status.Warnings() {
		b.WriteString(m.ui.bad.Render("⚠ "+w) + "\n")
	}
	b.WriteString("\n" + m.ui.title.Render("Events") + "\n")
	if len(m.events) == 0 {
		b.WriteString(m.ui.off.Render("  none yet") + "\n")
	}
	for _, e := range m.events {
		b.WriteString("  " + m.ui.eventLine(e, m.width-2) + "\n")
	}
	b.WriteString("\n")
	if m.notice.text != "" {
		s := m.ui.good
		if m.notice.bad {
			s = m.ui.bad
		}
		b.WriteString(s.Render("› "+m.notice.text) + "\n")
	}
	b.WriteString(m.ui.help.Render(m.help()) + "\n")
	return b.String()
}

func (m *model) help() string {
	keys := "0-9 * #"
	if m.hasKey('A') {
		keys += " a-d"
	}
	return keys + " keypad · l lock · u unlock · q quit\n" +
		"the board: o door · j jam · t tamper switch"
}

// keypadView draws the keypad as a grid, keys held down highlighted.
func (m *model) keypadView() string {
	cols := len(m.layout[0])
	line := func(l, mid, r string) string {
		return l + strings.Repeat("───"+mid, cols-1) + "───" + r + "\n"
	}
	var b strings.Builder
	b.WriteString(line("┌", "┬", "┐"))
	for i, row := range m.layout {
		if i > 0 {
			b.WriteString(line("├", "┼", "┤"))
		}
		b.WriteString("│")
		for _, k := range row {
			if m.lit(k) {
				b.WriteString(m.ui.litKey.Render("[" + string(k) + "]"))
			} else {
				b.WriteString(" " + string(k) + " ")
			}
			b.WriteString("│")
		}
		b.WriteString("\n")
	}
	b.WriteString(strings.TrimSuffix(line("└", "┴", "┘"), "\n"))
	return b.String()
}

// lit reports whether key is down: held by the panel's finger, or closed
// on the simulated keypad by anyone (the D-Bus simulator interface too).
func (m *model) lit(key byte) bool {
	return m.finger == key || strings.IndexByte(m.snap.keysDown, key) >= 0
}

func (m *model) statusView() string {
	s, st := m.snap, m.snap.status
	rows := []string{
		m.ui.row("Bolt", m.ui.boltState(st.State)),
	}
	if s.motor {
		travel := m.ui.bar(s.pos)
		if s.jammed {
			travel += "  " + m.ui.bad.Render("obstacle")
		}
		rows = append(rows, m.ui.row("", travel))
	} else if s.strikeOn {
		rows = append(rows, m.ui.row("Strike", m.ui.warn.Render("energised (released)")))
	} else {
		rows = append(rows, m.ui.row("Strike", "de-energised"))
	}
	door := m.ui.good.Render("closed")
	if s.doorOpen {
		door = m.ui.warn.Render("OPEN")
	}
	rows = append(rows,
		m.ui.row("Door", door),
		m.ui.row("LEDs", m.ui.dot(s.green, "green", m.ui.good)+"  "+m.ui.dot(s.red, "red", m.ui.bad)),
		m.ui.row("Buzzer", m.ui.onOff(s.buzzer)),
		m.ui.row("Keypad", m.ui.mode(st.Mode)),
		m.ui.row("Lockout", m.ui.lockout(st, s.now)),
		m.ui.row("Relock", m.ui.relock(st.RelockAt, s.now)),
		m.ui.row("Mode", m.ui.opMode(st.OperatingMode)), // alarms.go
		m.ui.row("Alarms", m.ui.alarms(st.Alarms)),
	)
	return strings.Join(rows, "\n")
}

func (ui *styles) row(label, value string) string { return ui.label.Render(label) + value }

func (ui *styles) boltState(s lock.State) string {
	switch s {
	case lock.StateLocked:
		return ui.good.Render("LOCKED")
	case lock.StateUnlocked:
		return ui.warn.Render("UNLOCKED")
	case lock.StateLocking, lock.StateUnlocking:
		return ui.warn.Render("MOVING") + " (" + string(s) + ")"
	case lock.StateJammed:
		return ui.bad.Render("JAMMED")
	}
	return ui.bad.Render("UNKNOWN")
}

// bar draws the simulated bolt's position, unlocked on the left.
func (ui *styles) bar(pos float64) string {
	n := int(pos*barWidth + 0.5)
	n = min(max(n, 0), barWidth)
	return ui.off.Render("unlocked ") + "▕" + strings.Repeat("█", n) + strings.Repeat("░", barWidth-n) + "▏" + ui.off.Render(" locked")
}

func (ui *styles) dot(on bool, name string, style lipgloss.Style) string {
	if on {
		return style.Render("● " + name)
	}
	return ui.off.Render("○ " + name)
}

func (ui *styles) onOff(on bool) string {
	if on {
		return ui.warn.Render("♪ on")
	}
	return ui.off.Render("off")
}

func (ui *styles) mode(m string) string {
	if m == "" || m == "idle" {
		return "idle"
	}
	return ui.warn.Render(m)
}

// lockout shows a running lockout's countdown, or how many wrong entries
// the keypad still takes before one starts a lockout (a count, never
// anything about a code).
func (ui *styles) lockout(st lock.Status, now time.Time) string {
	if left := st.LockedOutUntil.Sub(now); !st.LockedOutUntil.IsZero() && left > 0 {
		return ui.bad.Render("LOCKED OUT " + minSec(left) + " remaining")
	}
	switch n := st.WrongLeft; {
	case n == 1:
		return ui.off.Render("none · ") + ui.warn.Render("the next wrong entry locks the keypad")
	case n > 1:
		return ui.off.Render(fmt.Sprintf("none · %d more wrong entries lock the keypad", n))
	}
	return ui.off.Render("none")
}

// relock shows the auto-relock countdown (or a strike's pulse).
func (ui *styles) relock(at, now time.Time) string {
	if left := at.Sub(now); !at.IsZero() && left > 0 {
		return ui.warn.Render("locks in " + minSec(left))
	}
	return ui.off.Render("-")
}

// minSec is d as m:ss, rounded up so that a countdown never shows 0:00
// while it runs.
func minSec(d time.Duration) string {
	d = (d + time.Second - 1).Truncate(time.Second)
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

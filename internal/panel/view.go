package panel

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"

	"lockd.dev/lockd/lock"
)

var (
	titleStyle  = lipgloss.NewStyle().Bold(true)
	labelStyle  = lipgloss.NewStyle().Faint(true).Width(9)
	litKeyStyle = lipgloss.NewStyle().Bold(true).Reverse(true).Foreground(lipgloss.Color("11"))
	goodStyle   = lipgloss.NewStyle().Foreground(lipgloss.Color("10")).Bold(true)
	warnStyle   = lipgloss.NewStyle().Foreground(lipgloss.Color("11")).Bold(true)
	badStyle    = lipgloss.NewStyle().Foreground(lipgloss.Color("9")).Bold(true)
	offStyle    = lipgloss.NewStyle().Faint(true)
	bannerStyle = lipgloss.NewStyle().Bold(true).
			Foreground(lipgloss.Color("15")).Background(lipgloss.Color("1")).Padding(0, 1)
	helpStyle  = lipgloss.NewStyle().Faint(true)
	plainStyle = lipgloss.NewStyle()
)

type style = lipgloss.Style

// barWidth is the bolt travel bar's length in cells.
const barWidth = 16

// View draws the panel from the model's last snapshot.
func (m *model) View() string {
	if m.quitting {
		return ""
	}
	var b strings.Builder
	b.WriteString(titleStyle.Render("lockd simulator") + "  " + offStyle.Render(m.snap.now.Format("15:04:05")) + "\n\n")
	b.WriteString(lipgloss.JoinHorizontal(lipgloss.Top, m.keypadView(), "   ", m.statusView()) + "\n")
	if !m.snap.status.Provisioned {
		b.WriteString("\n" + bannerStyle.Render("SETUP INCOMPLETE — enter * SETUP # then NEW # NEW #") + "\n")
		if m.setupCode != "" {
			b.WriteString(warnStyle.Render("setup code (simulation only): "+m.setupCode) + "\n")
		} else {
			b.WriteString(warnStyle.Render("setup code: on the unit's label (lockd factory-init)") + "\n")
		}
	}
	for _, w := range m.snap.status.Warnings() {
		b.WriteString(badStyle.Render("⚠ "+w) + "\n")
	}
	b.WriteString("\n" + titleStyle.Render("Events") + "\n")
	if len(m.events) == 0 {
		b.WriteString(offStyle.Render("  none yet") + "\n")
	}
	for _, e := range m.events {
		b.WriteString("  " + eventLine(e, m.width-2) + "\n")
	}
	b.WriteString("\n")
	if m.notice.text != "" {
		s := goodStyle
		if m.notice.bad {
			s = badStyle
		}
		b.WriteString(s.Render("› "+m.notice.text) + "\n")
	}
	b.WriteString(helpStyle.Render(m.help()) + "\n")
	return b.String()
}

func (m *model) help() string {
	keys := "0-9 * #"
	if m.hasKey('A') {
		keys += " a-d"
	}
	return keys + " keypad · o door · j jam · l lock · u unlock · q quit"
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
				b.WriteString(litKeyStyle.Render("[" + string(k) + "]"))
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
		row("Bolt", boltState(st.State)),
	}
	if s.motor {
		travel := bar(s.pos)
		if s.jammed {
			travel += "  " + badStyle.Render("obstacle")
		}
		rows = append(rows, row("", travel))
	} else if s.strikeOn {
		rows = append(rows, row("Strike", warnStyle.Render("energised (released)")))
	} else {
		rows = append(rows, row("Strike", "de-energised"))
	}
	door := goodStyle.Render("closed")
	if s.doorOpen {
		door = warnStyle.Render("OPEN")
	}
	rows = append(rows,
		row("Door", door),
		row("LEDs", dot(s.green, "green", goodStyle)+"  "+dot(s.red, "red", badStyle)),
		row("Buzzer", onOff(s.buzzer)),
		row("Keypad", mode(st.Mode)),
		row("Lockout", lockout(st, s.now)),
		row("Relock", relock(st.RelockAt, s.now)),
	)
	return strings.Join(rows, "\n")
}

func row(label, value string) string { return labelStyle.Render(label) + value }

func boltState(s lock.State) string {
	switch s {
	case lock.StateLocked:
		return goodStyle.Render("LOCKED")
	case lock.StateUnlocked:
		return warnStyle.Render("UNLOCKED")
	case lock.StateLocking, lock.StateUnlocking:
		return warnStyle.Render("MOVING") + " (" + string(s) + ")"
	case lock.StateJammed:
		return badStyle.Render("JAMMED")
	}
	return badStyle.Render("UNKNOWN")
}

// bar draws the simulated bolt's position, unlocked on the left.
func bar(pos float64) string {
	n := int(pos*barWidth + 0.5)
	n = min(max(n, 0), barWidth)
	return offStyle.Render("unlocked ") + "▕" + strings.Repeat("█", n) + strings.Repeat("░", barWidth-n) + "▏" + offStyle.Render(" locked")
}

func dot(on bool, name string, style lipgloss.Style) string {
	if on {
		return style.Render("● " + name)
	}
	return offStyle.Render("○ " + name)
}

func onOff(on bool) string {
	if on {
		return warnStyle.Render("♪ on")
	}
	return offStyle.Render("off")
}

func mode(m string) string {
	if m == "" || m == "idle" {
		return "idle"
	}
	return warnStyle.Render(m)
}

// lockout shows a running lockout's countdown, or how many wrong entries
// the keypad still takes before one starts a lockout (a count, never
// anything about a code).
func lockout(st lock.Status, now time.Time) string {
	if left := st.LockedOutUntil.Sub(now); !st.LockedOutUntil.IsZero() && left > 0 {
		return badStyle.Render("LOCKED OUT " + minSec(left) + " remaining")
	}
	switch n := st.WrongLeft; {
	case n == 1:
		return offStyle.Render("none · ") + warnStyle.Render("the next wrong entry locks the keypad")
	case n > 1:
		return offStyle.Render(fmt.Sprintf("none · %d more wrong entries lock the keypad", n))
	}
	return offStyle.Render("none")
}

// relock shows the auto-relock countdown (or a strike's pulse).
func relock(at, now time.Time) string {
	if left := at.Sub(now); !at.IsZero() && left > 0 {
		return warnStyle.Render("locks in " + minSec(left))
	}
	return offStyle.Render("-")
}

// minSec is d as m:ss, rounded up so that a countdown never shows 0:00
// while it runs.
func minSec(d time.Duration) string {
	d = (d + time.Second - 1).Truncate(time.Second)
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

package panel

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"lockd.dev/lockd/lock"
)

// eventLine formats one event: time, kind, source and what it concerns,
// cut to width columns if width is positive. Events never carry code
// digits, and nothing here adds any.
func (ui *styles) eventLine(e lock.Event, width int) string {
	var details []string
	if e.Reason != "" {
		details = append(details, e.Reason)
	}
	// A code is named by its keypad slot, the one number its owner knows
	// it by (lockctl shows the same); the admin code has none.
	switch {
	case e.Slot != 0 && e.CodeKind != "":
		details = append(details, fmt.Sprintf("slot %d (%s)", e.Slot, e.CodeKind))
	case e.Slot != 0:
		details = append(details, fmt.Sprintf("slot %d", e.Slot))
	case e.CodeKind != "":
		details = append(details, e.CodeKind+" code")
	}
	if !e.Until.IsZero() {
		details = append(details, "until "+e.Until.Format("15:04:05"))
	}
	if e.Source == lock.SourceDBus && e.UID >= 0 {
		details = append(details, fmt.Sprintf("uid %d", e.UID))
	}
	line := fmt.Sprintf("%s  %-16s %-11s %s", e.Time.Format("15:04:05"), e.Kind, e.Source, strings.Join(details, ", "))
	return ui.kindStyle(e.Kind).Render(cut(strings.TrimRight(line, " "), width))
}

// cut shortens s to width columns with an ellipsis. Event text is plain
// and nearly always ASCII, so a rune is taken as one column.
func cut(s string, width int) string {
	r := []rune(s)
	if width <= 0 || len(r) <= width {
		return s
	}
	return string(r[:width-1]) + "…"
}

// kindStyle colours an event by how much it matters to a person watching.
func (ui *styles) kindStyle(kind string) lipgloss.Style {
	switch kind {
	case lock.EventGranted, lock.EventLocked, lock.EventSetup, lock.EventLockoutEnd:
		return ui.good
	case lock.EventDenied, lock.EventDuress, lock.EventJammed, lock.EventPositionUnsure,
		lock.EventLockout, lock.EventRefused, lock.EventKeypadError, lock.EventStoreError:
		return ui.bad
	case lock.EventUnlocked, lock.EventDoorOpen, lock.EventLockPending, lock.EventPositionChange:
		return ui.warn
	}
	return ui.plain
}

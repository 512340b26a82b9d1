package panel

import (
	"context"
	"errors"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"lockd.dev/lockd/lock"
)

// onKey handles typed keys. Runes typed quickly (or pasted) arrive in one
// message; each is handled in order.
func (m *model) onKey(k tea.KeyMsg) tea.Cmd {
	switch k.Type {
	case tea.KeyCtrlC:
		return m.doQuit()
	case tea.KeyRunes:
	default:
		return nil
	}
	var cmds []tea.Cmd
	for _, r := range k.Runes {
		switch {
		case r == 'q':
			return tea.Batch(append(cmds, m.doQuit())...)
		case r == 'o':
			m.queue(doorAction(m.board))
		case r == 'j':
			m.queue(jamAction(m.board))
		case r == 't':
			m.queue(tamperAction(m.board)) // alarms.go
		case r == 'l':
			cmds = append(cmds, m.command(true))
		case r == 'u':
			cmds = append(cmds, m.command(false))
		case r >= 'a' && r <= 'd':
			m.press(byte(r - 'a' + 'A'))
		case r < 0x80 && m.hasKey(byte(r)):
			m.press(byte(r))
		default:
			m.notice = noticeMsg{text: fmt.Sprintf("%q does nothing; see the key help", r), bad: true}
		}
	}
	return tea.Batch(cmds...)
}

func (m *model) press(key byte) {
	if !m.hasKey(key) {
		m.notice = noticeMsg{text: fmt.Sprintf("this keypad has no %c key", key), bad: true}
		return
	}
	if m.queue(tapAction(m.board, key)) {
		m.queued++
	}
}

func (m *model) queue(a action) bool {
	if !m.act.do(a) {
		m.notice = noticeMsg{text: "typing faster than a finger: key dropped", bad: true}
		return false
	}
	return true
}

// command asks the core to lock or unlock, as a D-Bus client would.
func (m *model) command(toLock bool) tea.Cmd {
	ctx, core, uid := m.ctx, m.core, m.uid
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, commandTimeout)
		defer cancel()
		f, what := core.Unlock, "unlock"
		if toLock {
			f, what = core.Lock, "lock"
		}
		err := f(ctx, lock.SourceDBus, uid)
		switch {
		case err == nil:
			return noticeMsg{text: what + " requested"}
		case errors.Is(err, lock.ErrDoorOpen):
			return noticeMsg{text: err.Error()}
		}
		return noticeMsg{text: fmt.Sprintf("%s refused: %v", what, err), bad: true}
	}
}

func (m *model) doQuit() tea.Cmd {
	m.quitting = true
	if m.quit != nil {
		m.quit()
	}
	return tea.Quit
}

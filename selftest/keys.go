package selftest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"lockd.dev/lockd/gpio"
)

// keyRead is what the keypad reported for one asked key: the key, another
// key, or nothing (0).
type keyRead struct {
	asked, got gpio.Key
}

// keys asks for every key of the keypad, one at a time, through the
// keypad driver, and judges each row and column (or the Wiegand lines)
// from the keys read.
func (w *walk) keys(ctx context.Context) error {
	if w.b.Keypad == nil {
		return nil
	}
	layout := w.b.Layout
	if layout == "" {
		layout = "123/456/789/*0#" // what a Wiegand keypad sends
	}
	kctx, stop := context.WithCancel(ctx)
	events := make(chan gpio.KeyEvent, 16)
	done := make(chan error, 1)
	go func() { done <- w.b.Keypad.Run(kctx, events) }()
	defer func() {
		stop()
		<-done
	}()

	var reads []keyRead
	for _, k := range strings.ReplaceAll(layout, "/", "") {
		key := gpio.Key(k)
		w.in.Show(Step{Action: PressKey, Key: key, Text: fmt.Sprintf("Press %s on the keypad, then let go.", key)})
		got, err := w.nextKey(ctx, events)
		switch {
		case errors.Is(err, errSkipped), errors.Is(err, errTimeout):
		case err != nil:
			return err
		}
		reads = append(reads, keyRead{key, got})
	}
	w.judgeKeys(layout, reads)
	return nil
}

// nextKey waits for the next key press on events and, on a matrix, for
// its release: a key still held would hide the next one in its column.
func (w *walk) nextKey(ctx context.Context, events <-chan gpio.KeyEvent) (gpio.Key, error) {
	var got gpio.Key
	until := func(match func(gpio.KeyEvent) bool) func() bool {
		return func() bool {
			for {
				select {
				case ev := <-events:
					if ev.Card == nil && match(ev) {
						return true
					}
				default:
					return false
				}
			}
		}
	}
	err := w.wait(ctx, until(func(ev gpio.KeyEvent) bool { got = ev.Key; return ev.Down }))
	if err != nil || w.b.Layout == "" { // Wiegand keypads send no release
		return got, err
	}
	err = w.wait(ctx, until(func(ev gpio.KeyEvent) bool { return !ev.Down && ev.Key == got }))
	if errors.Is(err, errSkipped) || errors.Is(err, errTimeout) {
		err = nil // the key was read; a release the walk missed changes nothing
	}
	return got, err
}

// judgeKeys notes a verdict on each keypad line. A matrix line is OK when
// a key asked for on it was read as a key on the same line; a key read as
// one on another row (or column) means rows (or columns) are swapped, or
// keypad.layout is wrong; no key at all means the line never reacted. A
// Wiegand line is OK when a key was read as itself.
func (w *walk) judgeKeys(layout string, reads []keyRead) {
	if w.b.Layout == "" {
		exact := func(asked, got gpio.Key) bool { return asked == got }
		w.judgeLines([]string{"keypad.d0", "keypad.d1"}, reads, func(gpio.Key) bool { return true }, exact)
		return
	}
	rows := strings.Split(layout, "/")
	for r := range rows {
		onRow := func(k gpio.Key) bool { return strings.ContainsRune(rows[r], rune(k)) }
		w.judgeLines([]string{fmt.Sprintf("keypad.rows[%d]", r)}, reads, onRow,
			func(_, got gpio.Key) bool { return onRow(got) })
	}
	for c := range rows[0] {
		onCol := func(k gpio.Key) bool {
			for _, row := range rows {
				if c < len(row) && row[c] == byte(k) {
					return true
				}
			}
			return false
		}
		w.judgeLines([]string{fmt.Sprintf("keypad.cols[%d]", c)}, reads, onCol,
			func(_, got gpio.Key) bool { return onCol(got) })
	}
}

// judgeLines notes one verdict on the lines keys from the keys asked for
// on them (on), each read right or wrong (right).
func (w *walk) judgeLines(keys []string, reads []keyRead, on func(gpio.Key) bool, right func(asked, got gpio.Key) bool) {
	var good, bad, none []string
	for _, r := range reads {
		switch {
		case !on(r.asked):
		case r.got == 0:
			none = append(none, r.asked.String())
		case right(r.asked, r.got):
			good = append(good, r.asked.String())
		default:
			bad = append(bad, fmt.Sprintf("%s read as %s", r.asked, r.got))
		}
	}
	for _, key := range keys {
		switch {
		case len(bad) > 0:
			w.r.note(key, Miswired, "%s: lines swapped, or keypad.layout wrong", strings.Join(bad, ", "))
		case len(good) > 0:
			w.r.note(key, OK, "keys read: %s", strings.Join(good, " "))
		}
		switch {
		case len(none) > 0 && len(good)+len(bad) == 0:
			w.r.note(key, NoChange, "no key on it was read (%s)", strings.Join(none, " "))
		case len(none) > 0:
			w.r.note(key, OK, "not read: %s (see the other line of each)", strings.Join(none, " "))
		}
	}
}

package tryboot

import (
	"fmt"
	"strconv"

	"lockd.dev/lockd/updater"
)

// layout maps slots to partition numbers and back.
type layout struct {
	part map[updater.Slot]int
	slot map[int]updater.Slot
}

func newLayout(parts map[updater.Slot]int) (layout, error) {
	if parts == nil {
		parts = map[updater.Slot]int{updater.SlotA: 2, updater.SlotB: 3}
	}
	l := layout{part: map[updater.Slot]int{}, slot: map[int]updater.Slot{}}
	for s, p := range parts {
		if !s.Valid() {
			return layout{}, fmt.Errorf("tryboot: Partitions names %q, not slot A or B", s)
		}
		if p < 1 || p > 63 {
			return layout{}, fmt.Errorf("tryboot: partition %d of slot %s is not in 1..63", p, s)
		}
		l.part[s], l.slot[p] = p, s
	}
	if len(l.part) != 2 {
		return layout{}, fmt.Errorf("tryboot: Partitions must name both slots, A and B")
	}
	if len(l.slot) != 2 {
		return layout{}, fmt.Errorf("tryboot: slots A and B share partition %d", l.part[updater.SlotA])
	}
	return l, nil
}

// slots reads the committed slot and the trial ("" when none) from f.
func (f *file) slots(lay layout) (committed, trial updater.Slot, err error) {
	p, ok := f.partition(false)
	if !ok {
		return "", "", invalidf("[all] has no boot_partition")
	}
	committed, ok = lay.slot[p]
	if !ok {
		return "", "", invalidf("[all] boot_partition=%d is neither slot (A=%d, B=%d)", p, lay.part[updater.SlotA], lay.part[updater.SlotB])
	}
	p, _ = f.partition(true) // set: the [all] one applies too
	trial, ok = lay.slot[p]
	if !ok {
		return "", "", invalidf("[tryboot] boot_partition=%d is neither slot (A=%d, B=%d)", p, lay.part[updater.SlotA], lay.part[updater.SlotB])
	}
	if trial == committed {
		trial = ""
	}
	return committed, trial, nil
}

// editFunc changes a file whose committed slot is committed and says
// which committed slot and trial the result must read as.
type editFunc func(f *file, committed updater.Slot) (wantC, wantT updater.Slot, err error)

// apply runs edit on f, which must name the slots, and checks the result
// before anything writes it.
func (lay layout) apply(f *file, edit editFunc) error {
	committed, _, err := f.slots(lay)
	if err != nil {
		return err
	}
	wantC, wantT, err := edit(f, committed)
	if err != nil {
		return err
	}
	c, t, err := f.slots(lay)
	if err == nil && (c != wantC || t != wantT) {
		err = fmt.Errorf("reads as committed %q, trial %q", c, t)
	}
	if err == nil && wantT != "" {
		if v, _ := f.value(keyAB, true); v != "1" {
			err = fmt.Errorf("has tryboot_a_b=%q on a tryboot boot", v)
		}
	}
	if err != nil { // a bug in the editor: refuse rather than write it
		return fmt.Errorf("the edit meant to give committed %q, trial %q: %w", wantC, wantT, err)
	}
	return nil
}

// armEdit makes slot the trial and makes sure the firmware switches whole
// partitions on a tryboot boot.
func armEdit(lay layout, slot updater.Slot) editFunc {
	return func(f *file, committed updater.Slot) (updater.Slot, updater.Slot, error) {
		if slot == committed {
			return "", "", fmt.Errorf("%s is the committed slot", slot)
		}
		if err := f.set(keyAB, "1", false); err != nil {
			return "", "", err
		}
		if err := f.set(keyAB, "1", true); err != nil { // a [tryboot] tryboot_a_b=0 would undo it
			return "", "", err
		}
		return committed, slot, f.set(keyPartition, strconv.Itoa(lay.part[slot]), true)
	}
}

// commitEdit makes slot the committed one and boots it on a stray tryboot
// reboot too.
func commitEdit(lay layout, slot updater.Slot) editFunc {
	return func(f *file, _ updater.Slot) (updater.Slot, updater.Slot, error) {
		p := strconv.Itoa(lay.part[slot])
		if err := f.set(keyPartition, p, false); err != nil {
			return "", "", err
		}
		return slot, "", f.set(keyPartition, p, true)
	}
}

// disarmEdit makes a tryboot boot boot the committed slot.
func disarmEdit(lay layout) editFunc {
	return func(f *file, committed updater.Slot) (updater.Slot, updater.Slot, error) {
		return committed, "", f.set(keyPartition, strconv.Itoa(lay.part[committed]), true)
	}
}

// set makes the firmware see key=value on a normal boot (tryboot false,
// in [all]) or on a tryboot boot, changing as few bytes as it can: the
// value of the line that wins now if it is in the right section, else a
// new line at the end of the right section, else a new section at the
// end. A normal-boot value is also seen on a tryboot boot unless a later
// [tryboot] line overrides it, which set leaves alone.
func (f *file) set(key, value string, tryboot bool) error {
	want := scopeAll
	if tryboot {
		want = scopeTry
	}
	i := f.last(key, tryboot)
	switch {
	case i >= 0 && f.same(i, value):
		return nil
	case i >= 0 && f.lines[i].scope == want:
		l := f.lines[i]
		l.text = l.text[:l.valStart] + value + l.text[l.valStart+len(l.value):]
		f.lines[i] = l
	case f.lastIn(want) > i:
		f.insert(f.lastIn(want)+1, key+"="+value)
	case !tryboot: // no line in scope all at all: the top of the file is
		f.insert(0, key+"="+value)
	default:
		var add []string
		if n := len(f.lines); n > 0 && f.lines[n-1].scope != scopeAll {
			add = append(add, "[all]") // [tryboot] after [none] would stay off
		}
		f.insert(len(f.lines), append(add, "[tryboot]", key+"="+value)...)
	}
	return f.reparse()
}

// same reports whether line i already says value.
func (f *file) same(i int, value string) bool {
	l := &f.lines[i]
	if l.key == keyPartition {
		p, ok := partitionNumber(value)
		return ok && l.part == p // 02 is 2
	}
	return l.value == value
}

// insert puts new lines before line i, ending them as the file ends its
// lines. Their scope is set by reparse.
func (f *file) insert(i int, texts ...string) {
	eol := "\n"
	for _, l := range f.lines {
		if l.eol != "" {
			eol = l.eol
			break
		}
	}
	if i > 0 && f.lines[i-1].eol == "" {
		f.lines[i-1].eol = eol
	}
	add := make([]line, len(texts))
	for j, t := range texts {
		add[j] = line{text: t, eol: eol}
	}
	f.lines = append(f.lines[:i], append(add, f.lines[i:]...)...)
}

// reparse recomputes every line's scope and value after an edit, and
// refuses an edit whose result lockd could not read back (too large).
func (f *file) reparse() error {
	g, err := parse(f.bytes())
	if err != nil {
		return err
	}
	*f = *g
	return nil
}

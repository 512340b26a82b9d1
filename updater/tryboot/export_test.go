package tryboot

import (
	"fmt"

	"lockd.dev/lockd/updater"
)

// Parse parses autoboot.txt as State does, with partitions A:2 and B:3,
// and returns the bytes a write would store unchanged.
func Parse(data []byte) (written []byte, committed, trial updater.Slot, err error) {
	lay, _ := newLayout(nil)
	f, err := parse(data)
	if err != nil {
		return nil, "", "", err
	}
	committed, trial, err = f.slots(lay)
	return f.bytes(), committed, trial, err
}

// Edit applies what Arm(slot), Commit(slot) or Disarm (op "arm", "commit",
// "disarm") would write to data, with partitions A:2 and B:3.
func Edit(data []byte, op string, slot updater.Slot) ([]byte, error) {
	lay, _ := newLayout(nil)
	f, err := parse(data)
	if err != nil {
		return nil, err
	}
	var e editFunc
	switch op {
	case "arm":
		e = armEdit(lay, slot)
	case "commit":
		e = commitEdit(lay, slot)
	case "disarm":
		e = disarmEdit(lay)
	default:
		return nil, fmt.Errorf("no op %q", op)
	}
	if err := lay.apply(f, e); err != nil {
		return nil, err
	}
	return f.bytes(), nil
}

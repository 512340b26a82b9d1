package tryboot_test

import (
	"bytes"
	"errors"
	"testing"

	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/tryboot"
)

// FuzzParse feeds arbitrary autoboot.txt files to the parser, which must
// never panic and must round-trip: a file it accepts is written back byte
// for byte and reads back as the same slots. Every edit it accepts must
// give the slots it promised, read back, and change nothing when repeated.
// Seeds: testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte(docs))
	f.Add([]byte("boot_partition=3"))
	f.Add([]byte("[all]\r\nboot_partition = 2\r\n[none]\r\n[tryboot]\r\nboot_partition=3\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		written, c, tr, err := tryboot.Parse(data)
		if err != nil && !errors.Is(err, tryboot.ErrInvalid) {
			t.Fatalf("error %v does not wrap ErrInvalid", err)
		}
		if written == nil {
			return // not even parsed
		}
		if !bytes.Equal(written, data) {
			t.Fatalf("written back as %q", written)
		}
		again, c2, tr2, err2 := tryboot.Parse(written)
		if !bytes.Equal(again, written) || c2 != c || tr2 != tr || (err == nil) != (err2 == nil) {
			t.Fatalf("read back as %q, %q, %v; first %q, %q, %v", c2, tr2, err2, c, tr, err)
		}
		if err != nil {
			return
		}
		for _, e := range []struct {
			op           string
			slot         updater.Slot
			wantC, wantT updater.Slot
		}{
			{"arm", c.Other(), c, c.Other()},
			{"commit", updater.SlotA, updater.SlotA, ""},
			{"commit", updater.SlotB, updater.SlotB, ""},
			{"disarm", "", c, ""},
		} {
			out, err := tryboot.Edit(data, e.op, e.slot)
			if err != nil {
				if !errors.Is(err, tryboot.ErrInvalid) { // only growing past 512 bytes
					t.Fatalf("%s %s: %v", e.op, e.slot, err)
				}
				continue
			}
			_, c3, tr3, err := tryboot.Parse(out)
			if err != nil || c3 != e.wantC || tr3 != e.wantT {
				t.Fatalf("%s %s gave %q, which reads as %q, %q, %v", e.op, e.slot, out, c3, tr3, err)
			}
			if twice, err := tryboot.Edit(out, e.op, e.slot); err != nil || !bytes.Equal(twice, out) {
				t.Fatalf("%s %s repeated: %q, %v; want %q", e.op, e.slot, twice, err, out)
			}
		}
	})
}

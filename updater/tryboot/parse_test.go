package tryboot_test

import (
	"errors"
	"strings"
	"testing"

	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/tryboot"
)

// docs is the A/B example of the Raspberry Pi documentation: A committed,
// B armed.
const docs = "[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\nboot_partition=3\n"

// TestParse reads autoboot.txt files with partitions A:2, B:3. What
// parses must also come back byte for byte when written unchanged.
func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, in         string
		committed, trial updater.Slot
		err              string // a part of the error, "" for none
	}{
		{"documentation example", docs, "A", "B", ""},
		{"committed B", "[all]\ntryboot_a_b=1\nboot_partition=3\n[tryboot]\nboot_partition=2\n", "B", "A", ""},
		{"disarmed", "[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\nboot_partition=2\n", "A", "", ""},
		{"no [tryboot] section", "[all]\nboot_partition=3\n", "B", "", ""},
		{"no [all] header: the top applies to every boot", "boot_partition=3", "B", "", ""},
		{"spaces and tabs", "  [all] \n\tboot_partition = 2 \t\n [tryboot]\nboot_partition\t=3\n", "A", "B", ""},
		{"comments", "# boot_partition=3\n[all]\n  # [tryboot]\nboot_partition=2\n#[tryboot]\n#boot_partition=3\n", "A", "", ""},
		{"CRLF", "[all]\r\nboot_partition=2\r\n[tryboot]\r\nboot_partition=3\r\n", "A", "B", ""},
		{"no final newline", "[all]\nboot_partition=2\n[tryboot]\nboot_partition=3", "A", "B", ""},
		{"leading zero", "[all]\nboot_partition=02\n", "A", "", ""},
		{"the last setting wins", "[all]\nboot_partition=3\nboot_partition=2\n", "A", "", ""},
		{"a later [all] overrides [tryboot]", "[tryboot]\nboot_partition=3\n[all]\nboot_partition=2\n", "A", "", ""},
		{"[none] is ignored, even malformed", "[all]\nboot_partition=2\n[none]\nboot_partition=7\nboot_partition=x\n[tryboot]\nboot_partition=3\n[all]\n", "A", "", ""},
		{"[none] then [tryboot] stays off", "[all]\nboot_partition=2\n[none]\n[tryboot]\nboot_partition=3\n", "A", "", ""},
		{"[tryboot] then [none] is off", "[all]\nboot_partition=2\n[tryboot]\n[none]\nboot_partition=3\n", "A", "", ""},
		{"other keys and lines kept", "[all]\ntryboot_a_b=1\nfoo=bar\nsomething without equals\nboot_partition=2\n[pi4]\nx=1\n[all]\n", "A", "", ""},
		{"keys are not prefixes", "[all]\nboot_partition=2\nboot_partition_x=5\n", "A", "", ""},

		{"empty file", "", "", "", "[all] has no boot_partition"},
		{"only [tryboot]", "[tryboot]\nboot_partition=3\n", "", "", "[all] has no boot_partition"},
		{"unknown partition", "[all]\nboot_partition=5\n", "", "", "[all] boot_partition=5 is neither slot"},
		{"partition 0 is the firmware's default, not a slot", "[all]\nboot_partition=0\n", "", "", "[all] boot_partition=0 is neither slot"},
		{"unknown trial partition", "[all]\nboot_partition=2\n[tryboot]\nboot_partition=4\n", "", "", "[tryboot] boot_partition=4 is neither slot"},
		{"not a number", "[all]\nboot_partition=two\n", "", "", `line 2: boot_partition="two" is not a partition number`},
		{"empty value", "[all]\nboot_partition=\n", "", "", "is not a partition number"},
		{"sign", "[all]\nboot_partition=+2\n", "", "", "is not a partition number"},
		{"no comments after a value", "[all]\nboot_partition=2 # A\n", "", "", "is not a partition number"},
		{"lone CR", "[all]\nboot_partition=2\r", "", "", "is not a partition number"},
		{"a filter autoboot.txt lacks", "[all]\nboot_partition=2\n[pi4]\nboot_partition=3\n", "", "", "boot_partition under [pi4]"},
		{"filters combine until [all]", "[all]\nboot_partition=2\n[gpio4=1]\n[tryboot]\nboot_partition=3\n", "", "", "boot_partition under [gpio4=1]"},
		{"malformed filter", "[all\nboot_partition=2\n", "", "", `line 1: malformed filter "[all"`},
		{"other spelling", "[all]\nBoot_Partition=2\n", "", "", `"Boot_Partition" is not spelt boot_partition`},
		{"larger than the firmware reads", "[all]\nboot_partition=2\n#" + strings.Repeat("x", 500) + "\n", "", "", "the firmware reads only the first 512"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			written, c, tr, err := tryboot.Parse([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, tryboot.ErrInvalid) {
					t.Fatalf("Parse = %q, %q, %v; want an ErrInvalid containing %q", c, tr, err, tc.err)
				}
				return
			}
			if err != nil || c != tc.committed || tr != tc.trial {
				t.Fatalf("Parse = committed %q, trial %q, %v; want %q, %q", c, tr, err, tc.committed, tc.trial)
			}
			if string(written) != tc.in {
				t.Fatalf("written back as %q, want %q", written, tc.in)
			}
		})
	}
}

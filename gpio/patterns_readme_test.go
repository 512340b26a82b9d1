package gpio

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// describe says a Sequence in words, as the README's table does:
// "green+beep 100 ms, green 1.9 s", a loop as "repeat: ...", and a run of
// the same steps as "9 × (red 100 ms, off 100 ms)".
func describe(s Sequence) string {
	if len(s.Once) == 0 && len(s.Loop) == 0 {
		return "all off"
	}
	var parts []string
	if len(s.Once) > 0 {
		parts = append(parts, describeSteps(s.Once))
	}
	if len(s.Loop) > 0 {
		parts = append(parts, "repeat: "+describeSteps(s.Loop))
	}
	return strings.Join(parts, "; ")
}

func describeSteps(steps []Step) string {
	// pairs counts how often the pair at i repeats back to back.
	pairs := func(i int) int {
		n := 1
		for i+2*n+1 < len(steps) && steps[i+2*n] == steps[i] && steps[i+2*n+1] == steps[i+1] {
			n++
		}
		return n
	}
	var out []string
	for i := 0; i < len(steps); {
		n := 1
		if i+1 < len(steps) {
			n = pairs(i)
		}
		// "off, 9 × (red, off)" reads better than "9 × (off, red), off".
		if n > 1 && i+2*n < len(steps) && steps[i+2*n] == steps[i] {
			out = append(out, describeStep(steps[i]))
			i++
			continue
		}
		if n > 1 {
			out = append(out, fmt.Sprintf("%d × (%s, %s)", n, describeStep(steps[i]), describeStep(steps[i+1])))
			i += 2 * n
			continue
		}
		out = append(out, describeStep(steps[i]))
		i++
	}
	return strings.Join(out, ", ")
}

func describeStep(s Step) string {
	var on []string
	if s.Green {
		on = append(on, "green")
	}
	if s.Red {
		on = append(on, "red")
	}
	if s.Buzzer {
		on = append(on, "beep")
	}
	what := strings.Join(on, "+")
	if what == "" {
		what = "off"
	}
	d := fmt.Sprintf("%d ms", s.For/time.Millisecond)
	if s.For >= time.Second {
		d = strings.TrimSuffix(fmt.Sprintf("%.1f", s.For.Seconds()), ".0") + " s"
	}
	return what + " " + d
}

var patternRow = regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\| [^|]+ \\| ([^|]+) \\|$")

// TestREADMEPatterns: the README's table of LED and buzzer patterns says
// what DefaultPatterns plays, pattern by pattern, and leaves none out.
func TestREADMEPatterns(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, m := range patternRow.FindAllStringSubmatch(string(b), -1) {
		seen[m[1]] = strings.TrimSpace(m[2])
	}
	for p, s := range DefaultPatterns() {
		got, ok := seen[p.String()]
		if want := describe(s); !ok || got != want {
			t.Errorf("README.md: pattern %s: table says %q, want the row\n| `%s` | ... | %s |", p, got, p, want)
		}
	}
}

package httpsource

import (
	"fmt"
	"testing"
)

func TestParseContentRange(t *testing.T) {
	for _, c := range []struct {
		v           string
		first, last int64
		total       int64
		ok          bool
	}{
		{"bytes 0-99/100", 0, 99, 100, true},
		{"bytes 5-5/6", 5, 5, 6, true},
		{"bytes 100-199/1000", 100, 199, 1000, true},
		{"bytes 0-99/*", 0, 0, 0, false},
		{"bytes */100", 0, 0, 0, false},
		{"bytes 10-5/100", 0, 0, 0, false},
		{"bytes 0-100/100", 0, 0, 0, false},
		{"bytes -1-5/100", 0, 0, 0, false},
		{"bytes +1-5/100", 0, 0, 0, false},
		{"items 0-1/2", 0, 0, 0, false},
		{"bytes 0-99/9223372036854775808", 0, 0, 0, false},
		{"", 0, 0, 0, false},
	} {
		a, b, n, err := parseContentRange(c.v)
		if (err == nil) != c.ok || (c.ok && (a != c.first || b != c.last || n != c.total)) {
			t.Errorf("%q: %d %d %d %v", c.v, a, b, n, err)
		}
	}
}

// FuzzContentRange: any header either parses to a range inside its total
// that prints back the same, or is refused with the package's error.
func FuzzContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-99/100", "bytes 1-1/2", "bytes 0-0/1", "bytes 9-8/10", "bytes 0-9/*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		a, b, n, err := parseContentRange(v)
		if err != nil {
			if len(err.Error()) < 11 || err.Error()[:11] != "httpsource:" {
				t.Fatalf("%q: error %v", v, err)
			}
			return
		}
		if a < 0 || a > b || b >= n {
			t.Fatalf("%q: %d-%d/%d", v, a, b, n)
		}
		if back := fmt.Sprintf("bytes %d-%d/%d", a, b, n); back != v {
			// Leading zeros are the only other spelling accepted.
			if a2, b2, n2, err := parseContentRange(back); err != nil || a2 != a || b2 != b || n2 != n {
				t.Fatalf("%q -> %q does not round-trip", v, back)
			}
		}
	})
}

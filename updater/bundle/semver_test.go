package bundle

import (
	"testing"
)

// TestVersionPrecedence is semver.org 2.0.0 §11, each version lower than
// the next.
func TestVersionPrecedence(t *testing.T) {
	order := []string{
		"0.0.0", "0.0.1", "0.1.0", "0.9.9", "0.10.0",
		"1.0.0-0", "1.0.0-1", "1.0.0-2", "1.0.0-10", "1.0.0-18446744073709551616",
		"1.0.0-A", "1.0.0-Z", "1.0.0-a", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
		"1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0",
		"1.0.1", "1.1.0", "1.10.0", "2.0.0", "2.1.0", "2.1.1", "18446744073709551615.0.0",
	}
	vs := make([]Version, len(order))
	for i, s := range order {
		v, err := ParseVersion(s)
		if err != nil {
			t.Fatal(err)
		}
		if v.String() != s {
			t.Errorf("String() = %q, want %q", v.String(), s)
		}
		vs[i] = v
	}
	for i := range vs {
		for j := range vs {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := vs[i].Compare(vs[j]); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", order[i], order[j], got, want)
			}
		}
	}
}

func TestVersionBuildIgnored(t *testing.T) {
	for _, p := range [][2]string{
		{"1.0.0+a", "1.0.0+b"}, {"1.0.0-rc.1+x.7", "1.0.0-rc.1"}, {"1.0.0+001", "1.0.0"},
	} {
		a, err1 := ParseVersion(p[0])
		b, err2 := ParseVersion(p[1])
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if a.Compare(b) != 0 {
			t.Errorf("%s vs %s: build metadata must not count", p[0], p[1])
		}
	}
}

func TestVersionInvalid(t *testing.T) {
	for _, s := range []string{
		"", "1", "1.0", "1.0.0.0", "v1.0.0", " 1.0.0", "1.0.0 ", "01.0.0", "1.00.0", "1.0.01",
		"1.0.0-", "1.0.0+", "1.0.0-01", "1.0.0-a..b", "1.0.0-a.", "1.0.0+a..b", "1.0.0-a_b",
		"1.0.0+é", "-1.0.0", "1.-1.0", "1.0.0-+", "18446744073709551616.0.0", "1.0.x",
		"1.0.0-rc.1\n",
	} {
		if v, err := ParseVersion(s); err == nil {
			t.Errorf("ParseVersion(%q) = %v, want an error", s, v)
		}
	}
	if _, err := ParseVersion("1.0.0-" + string(make([]byte, 300))); err == nil {
		t.Error("overlong version accepted")
	}
}

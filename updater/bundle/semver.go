package bundle

import (
	"fmt"
	"strconv"
	"strings"
)

// maxVersionLen bounds a version string; real versions are far shorter.
const maxVersionLen = 256

// Version is a semantic version, https://semver.org 2.0.0:
// MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]. Only canonical forms parse: no
// leading "v", no leading zeros in numeric identifiers, no empty identifiers.
type Version struct {
	Major, Minor, Patch uint64
	Pre                 []string // dot-separated pre-release identifiers
	Build               []string // dot-separated build metadata, ignored by Compare
}

// ParseVersion parses s strictly.
func ParseVersion(s string) (Version, error) {
	var v Version
	if len(s) == 0 || len(s) > maxVersionLen {
		return v, fmt.Errorf("bundle: version %.40q: length must be 1..%d", s, maxVersionLen)
	}
	core, build, hasBuild := strings.Cut(s, "+")
	core, pre, hasPre := strings.Cut(core, "-")
	nums := strings.Split(core, ".")
	if len(nums) != 3 {
		return v, fmt.Errorf("bundle: version %q: want MAJOR.MINOR.PATCH", s)
	}
	dst := []*uint64{&v.Major, &v.Minor, &v.Patch}
	for i, n := range nums {
		x, err := parseNumeric(n)
		if err != nil {
			return v, fmt.Errorf("bundle: version %q: %w", s, err)
		}
		*dst[i] = x
	}
	var err error
	if hasPre {
		if v.Pre, err = parseIdents(pre, true); err != nil {
			return v, fmt.Errorf("bundle: version %q: pre-release: %w", s, err)
		}
	}
	if hasBuild {
		if v.Build, err = parseIdents(build, false); err != nil {
			return v, fmt.Errorf("bundle: version %q: build: %w", s, err)
		}
	}
	return v, nil
}

// parseNumeric parses a numeric identifier: digits, no leading zero.
func parseNumeric(s string) (uint64, error) {
	if s == "" {
		return 0, fmt.Errorf("empty number")
	}
	if !allDigits(s) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("%q has a leading zero", s)
	}
	x, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return x, nil
}

// parseIdents parses dot-separated identifiers of [0-9A-Za-z-]; numeric
// pre-release identifiers must not have leading zeros.
func parseIdents(s string, pre bool) ([]string, error) {
	ids := strings.Split(s, ".")
	for _, id := range ids {
		if id == "" {
			return nil, fmt.Errorf("empty identifier")
		}
		for i := 0; i < len(id); i++ {
			c := id[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
				return nil, fmt.Errorf("identifier %q: invalid character %q", id, c)
			}
		}
		if pre && allDigits(id) && len(id) > 1 && id[0] == '0' {
			return nil, fmt.Errorf("identifier %q has a leading zero", id)
		}
	}
	return ids, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String returns the canonical text form, which ParseVersion accepts.
func (v Version) String() string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if len(v.Pre) > 0 {
		s += "-" + strings.Join(v.Pre, ".")
	}
	if len(v.Build) > 0 {
		s += "+" + strings.Join(v.Build, ".")
	}
	return s
}

// Compare returns -1, 0 or +1 as v has lower, equal or higher precedence
// than w. Build metadata does not count: 1.0.0+a and 1.0.0+b are equal.
func (v Version) Compare(w Version) int {
	for _, d := range [...]int{cmpUint(v.Major, w.Major), cmpUint(v.Minor, w.Minor), cmpUint(v.Patch, w.Patch)} {
		if d != 0 {
			return d
		}
	}
	// A pre-release ranks below its release.
	switch {
	case len(v.Pre) == 0 && len(w.Pre) == 0:
		return 0
	case len(v.Pre) == 0:
		return 1
	case len(w.Pre) == 0:
		return -1
	}
	for i := 0; i < len(v.Pre) && i < len(w.Pre); i++ {
		if d := cmpIdent(v.Pre[i], w.Pre[i]); d != 0 {
			return d
		}
	}
	return cmpUint(uint64(len(v.Pre)), uint64(len(w.Pre)))
}

// cmpIdent orders pre-release identifiers: numeric ones numerically and
// below alphanumeric ones, alphanumeric ones in ASCII order.
func cmpIdent(a, b string) int {
	an, bn := allDigits(a), allDigits(b)
	switch {
	case an && bn:
		// Canonical numerals have no leading zeros, so length orders them
		// without overflow, however long they are.
		if d := cmpUint(uint64(len(a)), uint64(len(b))); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	case an:
		return -1
	case bn:
		return 1
	}
	return strings.Compare(a, b)
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

package codes

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckRule(t *testing.T) {
	for _, tc := range []struct {
		code string
		kind Kind
		want string // rule, "" for ok
	}{
		{"2580", KindUser, ""},
		{"258046", KindAdmin, ""},
		{"", KindUser, RuleTooShort},
		{"258", KindUser, RuleTooShort},
		{"25804", KindAdmin, RuleTooShort},
		{"2580461379", KindUser, ""},
		{"258046137913", KindUser, ""},
		{"2580461379135", KindUser, RuleTooLong},
		{strings.Repeat("7", 10000), KindUser, RuleTooLong},
		{"25a0", KindUser, RuleNotDigits},
		{"25\x0080", KindUser, RuleNotDigits},
		{"2580\x00", KindUser, RuleNotDigits},
		{" 2580", KindUser, RuleNotDigits},
		{"+2580", KindUser, RuleNotDigits},
		{"٢٥٨٠", KindUser, RuleNotDigits}, // Arabic-Indic digits
		{"２５８０", KindUser, RuleNotDigits}, // full-width digits
		{"\xff\xfe25", KindUser, RuleNotDigits},
		{"0000", KindUser, RuleAllSame},
		{"777777", KindAdmin, RuleAllSame},
		{"1234", KindUser, RuleSequence},
		{"3456789", KindUser, RuleSequence},
		{"9876", KindUser, RuleSequence},
		{"7890", KindUser, RuleSequence}, // wraps 9 -> 0
		{"8901", KindUser, RuleSequence},
		{"2109", KindUser, RuleSequence}, // wraps 0 -> 9 going down
		{"123456", KindAdmin, RuleSequence},
		{"1357", KindUser, ""}, // steps of 2 are not a straight run
		{"1212", KindUser, RuleCommon},
		{"1004", KindUser, RuleCommon},
		{"6969", KindUser, RuleCommon},
		{"2001", KindUser, RuleCommon},
		{"1010", KindUser, RuleCommon},
		{"10101", KindUser, ""}, // the list is of 4-digit PINs
	} {
		err := CheckRule(tc.code, tc.kind)
		var re *RuleError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("CheckRule(%q, %s) = %v, want ok", tc.code, tc.kind, err)
		case tc.want != "" && (!errors.As(err, &re) || re.Reason != tc.want):
			t.Errorf("CheckRule(%q, %s) = %v, want %s", tc.code, tc.kind, err, tc.want)
		case tc.want != "" && !errors.Is(err, ErrWeakCode):
			t.Errorf("CheckRule(%q) = %v, not ErrWeakCode", tc.code, err)
		}
		noDigits(t, err, tc.code)
	}
}

func TestCommonPINsAreRefused(t *testing.T) {
	for _, p := range commonPINs {
		if CheckRule(p, KindUser) == nil {
			t.Errorf("%s accepted", p)
		}
	}
}

func FuzzCheckRule(f *testing.F) {
	for _, s := range []string{"2580", "1234", "0000", "7890", "25a0", "2580461379135", "\x00\x00\x00\x00", "٢٥٨٠"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, code string, admin bool) {
		kind := KindUser
		if admin {
			kind = KindAdmin
		}
		err := CheckRule(code, kind)
		noDigits(t, err, code)
		if err == nil {
			if len(code) < MinUserDigits || len(code) > MaxDigits || (admin && len(code) < MinAdminDigits) {
				t.Fatalf("accepted length %d", len(code))
			}
			for i := 0; i < len(code); i++ {
				if code[i] < '0' || code[i] > '9' {
					t.Fatalf("accepted non-digit %q", code)
				}
			}
			if allSame(code) || straightRun(code) {
				t.Fatalf("accepted weak %q", code)
			}
			if !validSyntax(code) {
				t.Fatalf("accepted code Verify would not look up: %q", code)
			}
			return
		}
		var re *RuleError
		if !errors.As(err, &re) || ruleText[re.Reason] == "" {
			t.Fatalf("error %v is not a known *RuleError", err)
		}
	})
}

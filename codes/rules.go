package codes

// Code lengths.
const (
	MinUserDigits  = 4
	MinAdminDigits = 6
	MaxDigits      = 12
)

// commonPINs are the 20 most common 4-digit PINs in the DataGenetics
// analysis of 3.4 million leaked PINs (2012), most common first. Several
// are also caught by the all-same and sequence rules; the list is kept
// whole so it can be checked against its source.
var commonPINs = [20]string{
	"1234", "1111", "0000", "1212", "7777",
	"1004", "2000", "4444", "2222", "6969",
	"9999", "3333", "5555", "6666", "1122",
	"1313", "8888", "4321", "2001", "1010",
}

// CheckRule checks code against the code rules for a code of kind k:
// 4 to 12 ASCII digits (admin at least 6), not all the same digit, not a
// straight run up or down (wrapping 9->0 counts: 7890 and 2109 are runs),
// not one of the 20 most common PINs. It returns nil or a *RuleError. It
// looks at no stored code (duplicates and prefixes are checked by Add) and
// rejects hostile input (any length, any bytes) in time bounded by
// MaxDigits.
func CheckRule(code string, k Kind) error {
	minLen := MinUserDigits
	if k == KindAdmin {
		minLen = MinAdminDigits
	}
	if len(code) > MaxDigits {
		return &RuleError{RuleTooLong}
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return &RuleError{RuleNotDigits}
		}
	}
	if len(code) < minLen {
		return &RuleError{RuleTooShort}
	}
	if allSame(code) {
		return &RuleError{RuleAllSame}
	}
	if straightRun(code) {
		return &RuleError{RuleSequence}
	}
	for _, p := range commonPINs {
		if code == p {
			return &RuleError{RuleCommon}
		}
	}
	return nil
}

// validSyntax reports whether code could be a stored code at all; Verify
// uses it to skip the HMAC for entries that cannot match.
func validSyntax(code string) bool {
	if len(code) < MinUserDigits || len(code) > MaxDigits {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

func allSame(code string) bool {
	for i := 1; i < len(code); i++ {
		if code[i] != code[0] {
			return false
		}
	}
	return true
}

// straightRun reports whether every digit is one more (or every digit one
// less) than the one before, modulo 10.
func straightRun(code string) bool {
	step := (int(code[1]) - int(code[0]) + 10) % 10
	if step != 1 && step != 9 {
		return false
	}
	for i := 2; i < len(code); i++ {
		if (int(code[i])-int(code[i-1])+10)%10 != step {
			return false
		}
	}
	return true
}

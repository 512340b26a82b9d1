package dbusapi

import (
	"sort"
	"strconv"
	"strings"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/dbusapi/wire"
)

// credential is AddCredential's secret, decoded: a PIN or a card.
type credential struct {
	pin  string
	card codes.Card
}

// parseCredential reads AddCredential's type, secret and options. Every
// refusal says what the argument wants and never repeats the secret: a
// PIN is 4..12 digits (the store's rules say the rest); a card is
// "FACILITY:NUMBER" in decimal, with option bits 26 or 34 (default: 26
// when the facility fits 8 bits, else 34).
func parseCredential(typ, secret string, options map[string]dbus.Variant) (credential, *dbus.Error) {
	keys := make([]string, 0, len(options))
	for k := range options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	bits := uint32(0)
	for _, k := range keys {
		if typ != wire.CredentialCard || k != wire.OptBits {
			return credential{}, invalidArgs("unknown option %.40q: a card takes bits, a PIN none", k)
		}
		b, ok := options[k].Value().(uint32)
		if !ok || (b != 26 && b != 34) {
			return credential{}, invalidArgs("option bits: want type u, 26 or 34")
		}
		bits = b
	}
	switch typ {
	case wire.CredentialPIN:
		if derr := checkCode(secret); derr != nil {
			return credential{}, derr
		}
		return credential{pin: secret}, nil
	case wire.CredentialCard:
		fac, num, ok := strings.Cut(secret, ":")
		f, ferr := cardField(fac)
		n, nerr := cardField(num)
		if !ok || ferr != nil || nerr != nil {
			return credential{}, invalidArgs("secret: a card is FACILITY:NUMBER, two decimal numbers of 0 to 65535")
		}
		c := codes.CardFor(f, n)
		if bits != 0 {
			c.Bits = int(bits)
		}
		if err := c.Check(); err != nil {
			return credential{}, codesError(err)
		}
		return credential{card: c}, nil
	}
	return credential{}, invalidArgs("type: want %s or %s", wire.CredentialPIN, wire.CredentialCard)
}

// cardField reads one decimal field of a card: 1 to 5 digits, at most
// 65535.
func cardField(s string) (uint32, error) {
	if s == "" || len(s) > 5 || strings.Trim(s, "0123456789") != "" {
		return 0, strconv.ErrSyntax
	}
	n, err := strconv.ParseUint(s, 10, 16)
	return uint32(n), err
}

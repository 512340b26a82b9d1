package dbusapi

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/dbusapi/wire"
)

// FuzzParseCredential feeds Users1.AddCredential's arguments, as a caller
// can send them, to their decoder (seeds in testdata/fuzz). Whatever it
// accepts is exactly the card or PIN sent, and whatever it refuses is
// InvalidArgs that never repeats a secret of four digits or more.
func FuzzParseCredential(f *testing.F) {
	f.Add("card", "12:3456", uint32(0))
	f.Add("card", "4242:65000", uint32(34))
	f.Add("card", "300:1", uint32(26))
	f.Add("card", "007:0099", uint32(0))
	f.Add("pin", "58213", uint32(0))
	f.Add("pin", "58213", uint32(26))
	f.Add("card", ":", uint32(0))
	f.Add("fingerprint", "", uint32(0))
	digits := regexp.MustCompile(`[0-9]{4,}`)
	f.Fuzz(func(t *testing.T, typ, secret string, bits uint32) {
		opts := map[string]dbus.Variant{}
		if bits != 0 {
			opts[wire.OptBits] = dbus.MakeVariant(bits)
		}
		c, derr := parseCredential(typ, secret, opts)
		if derr != nil {
			if derr.Name != wire.ErrInvalidArgs || len(derr.Body) != 1 {
				t.Fatalf("refusal %v is not InvalidArgs with a reason", derr)
			}
			msg, _ := derr.Body[0].(string)
			for _, d := range digits.FindAllString(secret, -1) {
				// The reasons name the bound 65535 themselves.
				if strings.Contains(msg, d) && !strings.Contains("65535", d) {
					t.Fatalf("refusal %q repeats %q of the secret", msg, d)
				}
			}
			return
		}
		switch typ {
		case wire.CredentialPIN:
			if c.pin != secret || len(secret) > codes.MaxDigits || strings.Trim(secret, "0123456789") != "" {
				t.Fatalf("PIN %q accepted as %q", secret, c.pin)
			}
		case wire.CredentialCard:
			if err := c.card.Check(); err != nil || (bits != 0 && c.card.Bits != int(bits)) {
				t.Fatalf("card %q bits %d accepted as %+v (%v)", secret, bits, c.card, err)
			}
			fac, num, _ := strings.Cut(secret, ":")
			f, _ := strconv.ParseUint(fac, 10, 32)
			n, _ := strconv.ParseUint(num, 10, 32)
			if uint32(f) != c.card.Facility || uint32(n) != c.card.Number || errors.Is(c.card.Check(), codes.ErrInvalid) {
				t.Fatalf("card %q accepted as %+v", secret, c.card)
			}
		default:
			t.Fatalf("type %q accepted", typ)
		}
	})
}

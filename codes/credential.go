package codes

import (
	"fmt"
	"strconv"
	"time"
)

// CredentialType is what a credential is: a PIN typed at the keypad or a
// card presented at the Wiegand reader.
type CredentialType string

// Credential types.
const (
	CredentialPIN  CredentialType = "pin"
	CredentialCard CredentialType = "card"
)

// DetailCredential is the audit Details key of the credential type an
// event concerns ("pin" or "card").
const DetailCredential = "credential"

// Refusal and step reasons of credentials (see Verify).
const (
	// ReasonNonAccess: a non-access user's credential was recognised;
	// it opens nothing and is not a wrong entry.
	ReasonNonAccess = "non-access"
	// ReasonPINNeeded: a two-factor user's card was accepted; the
	// user's PIN must follow within the two-factor window.
	ReasonPINNeeded = "pin-needed"
	// ReasonCardMissing: a two-factor user's PIN came without the card
	// before it; refused and counted like a wrong entry.
	ReasonCardMissing = "card-missing"
)

// Card is a Wiegand card: 26-bit (8-bit facility) or 34-bit (16-bit
// facility), 16-bit number. It is a secret like a PIN: the store keeps
// only its keyed digest, and nothing logs it.
type Card struct {
	Bits     int
	Facility uint32
	Number   uint32
}

// CardFor returns the card of that facility and number in the format a
// reader sends it in: 26-bit while the facility fits 8 bits, else
// 34-bit (as Simulator1.PresentCard does).
func CardFor(facility, number uint32) Card {
	if facility > 0xff {
		return Card{Bits: 34, Facility: facility, Number: number}
	}
	return Card{Bits: 26, Facility: facility, Number: number}
}

// Check returns an ErrInvalid unless c is a 26- or 34-bit card whose
// facility and number fit. The message never holds the numbers.
func (c Card) Check() error {
	switch {
	case c.Bits != 26 && c.Bits != 34:
		return invalidf("codes: a card has 26 or 34 bits")
	case c.Bits == 26 && c.Facility > 0xff:
		return invalidf("codes: a 26-bit card's facility is 0..255")
	case c.Facility > 0xffff:
		return invalidf("codes: a 34-bit card's facility is 0..65535")
	case c.Number > 0xffff:
		return invalidf("codes: a card number is 0..65535")
	}
	return nil
}

// digestText is what the card digest covers: the format and both fields,
// so a 26-bit and a 34-bit card with the same numbers are two cards, as
// they are two frames on the wire.
func (c Card) digestText() string {
	return strconv.Itoa(c.Bits) + ":" + strconv.FormatUint(uint64(c.Facility), 10) + ":" + strconv.FormatUint(uint64(c.Number), 10)
}

// String names the format only: card numbers are never printed.
func (c Card) String() string { return fmt.Sprintf("%d-bit card", c.Bits) }

// card is the stored digest of a card.
func (d *digester) card(c Card) []byte { return d.sum(domainCard, c.digestText()) }

// pendingFactor is a two-factor user's accepted card, waiting for the
// user's PIN. It lives in memory only: a restart forgets it, which asks
// for the card again and opens nothing.
type pendingFactor struct {
	user  int64
	until time.Time
}

// take returns the user whose card waits for a PIN at now (0 if none)
// and forgets it: the card is good for the very next entry only.
func (p *pendingFactor) take(now time.Time) int64 {
	u := p.user
	if !now.Before(p.until) {
		u = 0
	}
	*p = pendingFactor{}
	return u
}

package wire

// io.lockd.Users1: users and their credentials (PINs and Wiegand cards).
// A user is what Codes1 calls a code (kind, keypad slot, label, schedule,
// uses); Codes1 keeps working on users holding PINs. Every method and
// read is for root and lockd-admin only.
const Users1 = "io.lockd.Users1"

// Credential types: the type argument of Users1.AddCredential and the
// credential key of events, log entries and ListUsers.
const (
	CredentialPIN  = "pin"  // secret: 4..12 digits
	CredentialCard = "card" // secret: "FACILITY:NUMBER", decimal
)

// Option keys of Users1.AddUser (with those of Codes1.Add, which takes
// these too) and Users1.AddCredential.
const (
	OptTwoFactor   = "two_factor"   // b: a card, then a PIN within the two-factor window
	OptExpireAfter = "expire_after" // u: minutes from the first use (kind after-first-use)
	OptBits        = "bits"         // u: 26 or 34 (AddCredential, card); default 26 unless the facility needs 34
)

// Keys of ListUsers details (besides those of Codes1.List) and of
// events.
const (
	KeyTwoFactor   = "two_factor"   // b
	KeyExpireAfter = "expire_after" // u minutes, after-first-use users
	KeyFirstUsed   = "first_used"   // t, after-first-use users once used
	KeyCredential  = "credential"   // s: pin or card (events, Log: the credential an event concerns)
)

// Event kinds of user and credential changes (source dbus, or keypad for
// a card enrolled in programming mode), and of credentials at the door.
const (
	EventUserAdded         = "user-added"
	EventUserRemoved       = "user-removed"
	EventUserEnabled       = "user-enabled"
	EventUserDisabled      = "user-disabled"
	EventCredentialAdded   = "credential-added"
	EventCredentialRemoved = "credential-removed"
	// EventNonAccess: a non-access user's credential was used: recorded,
	// nothing opened.
	EventNonAccess = "non-access"
	// EventCardAccepted: a two-factor user's card; the PIN must follow.
	EventCardAccepted = "card-accepted"
)

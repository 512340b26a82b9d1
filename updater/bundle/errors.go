package bundle

import "errors"

// Errors a caller must tell apart. Every error this package returns wraps at
// most one of them and says in its text where and why.
var (
	// Structure of the file.
	ErrBadMagic          = errors.New("bundle: not a lockd bundle (bad magic)")
	ErrUnsupportedFormat = errors.New("bundle: unsupported format version")
	ErrTruncated         = errors.New("bundle: truncated")
	ErrSectionOrder      = errors.New("bundle: unexpected section (reordered or corrupt)")
	ErrMalformed         = errors.New("bundle: malformed")
	ErrTrailingData      = errors.New("bundle: trailing data after image")

	// Authenticity.
	ErrUnknownKey   = errors.New("bundle: signed by an unknown key")
	ErrBadSignature = errors.New("bundle: bad signature")
	ErrBadManifest  = errors.New("bundle: invalid manifest")

	// The image, found while streaming it.
	ErrImageSize    = errors.New("bundle: image size mismatch")
	ErrImageHash    = errors.New("bundle: image sha256 mismatch")
	ErrImageCorrupt = errors.New("bundle: image corrupt")

	// Pre-install policy (see Check).
	ErrIncompatible    = errors.New("bundle: incompatible")
	ErrDowngrade       = errors.New("bundle: not newer than the booted version")
	ErrSecurityVersion = errors.New("bundle: security version below the minimum")
	ErrTooBig          = errors.New("bundle: image larger than the slot")

	// Keys.
	ErrBadKeyFile = errors.New("bundle: malformed key file")
	ErrNoKeys     = errors.New("bundle: no trusted keys")
)

// refusals are the errors that say the bundle, not the unit or the way it
// came, is wrong: installing it again cannot succeed.
var refusals = []error{
	ErrBadMagic, ErrUnsupportedFormat, ErrTruncated, ErrSectionOrder, ErrMalformed, ErrTrailingData,
	ErrUnknownKey, ErrBadSignature, ErrBadManifest, ErrImageSize, ErrImageHash, ErrImageCorrupt,
	ErrIncompatible, ErrDowngrade, ErrSecurityVersion, ErrTooBig,
}

// Refused reports whether err is a refusal of the bundle itself (its
// structure, signature, image or the install policy).
func Refused(err error) bool {
	for _, r := range refusals {
		if errors.Is(err, r) {
			return true
		}
	}
	return false
}

// Refusals returns the errors Refused recognises.
func Refusals() []error { return append([]error(nil), refusals...) }

package bundle

import "fmt"

// Policy is what this unit allows, for Check.
type Policy struct {
	// Compatible is this unit's hardware, from [update] compatible.
	Compatible string
	// BootedVersion is the version of the running system. It must parse:
	// a unit that cannot say what it runs cannot tell a downgrade.
	BootedVersion string
	// MinSecurityVersion is the stored minimum; never installable below.
	MinSecurityVersion uint64
	// AllowDowngrade is the owner's explicit override for a bundle whose
	// version is not newer than BootedVersion. It never lowers
	// MinSecurityVersion.
	AllowDowngrade bool
	// SlotSize is the size in bytes of the slot the image would be
	// written to; 0 is refused rather than taken as "unlimited".
	SlotSize uint64
}

// Check applies the pre-install checks to a verified manifest and returns
// the first that fails, in this order: ErrIncompatible, ErrSecurityVersion,
// ErrDowngrade, ErrTooBig (each wrapped with both values). A malformed
// manifest or policy is an error wrapping none of them.
func Check(m Manifest, p Policy) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if p.Compatible == "" {
		return fmt.Errorf("bundle: policy: this unit's compatible is not set")
	}
	booted, err := ParseVersion(p.BootedVersion)
	if err != nil {
		return fmt.Errorf("bundle: policy: booted version: %w", err)
	}
	if p.SlotSize == 0 {
		return fmt.Errorf("bundle: policy: slot size unknown")
	}
	if m.Compatible != p.Compatible {
		return fmt.Errorf("%w: bundle is for %q, this unit is %q", ErrIncompatible, m.Compatible, p.Compatible)
	}
	if m.SecurityVersion < p.MinSecurityVersion {
		return fmt.Errorf("%w: bundle %s has security version %d, this unit requires at least %d",
			ErrSecurityVersion, m.Version, m.SecurityVersion, p.MinSecurityVersion)
	}
	v, _ := ParseVersion(m.Version) // Validate parsed it
	if v.Compare(booted) <= 0 && !p.AllowDowngrade {
		return fmt.Errorf("%w: bundle %s is not newer than the booted %s (an owner override can allow it)",
			ErrDowngrade, m.Version, p.BootedVersion)
	}
	if m.Image.Size > p.SlotSize {
		return fmt.Errorf("%w: image is %d bytes, the slot %d", ErrTooBig, m.Image.Size, p.SlotSize)
	}
	return nil
}

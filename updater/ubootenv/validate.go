package ubootenv

import (
	"fmt"
	"strings"
)

// checkName refuses a name that U-Boot or libubootenv cannot store, or
// that fw_printenv's "name=value" lines could not show unambiguously.
func checkName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty name", ErrInvalid)
	case strings.ContainsAny(name, "=\x00\n"):
		return fmt.Errorf("%w: name %q contains '=', NUL or a newline", ErrInvalid, name)
	}
	return nil
}

// checkValue refuses a value that cannot be stored (NUL ends it) or
// printed as one fw_printenv line (newline).
func checkValue(name, value string) error {
	if strings.ContainsAny(value, "\x00\n") {
		return fmt.Errorf("%w: value of %q contains NUL or a newline", ErrInvalid, name)
	}
	return nil
}

// checkVar checks a variable to be written. .flags is U-Boot's own
// bookkeeping: Update refuses it (setting it could unlock read-only
// variables); WriteAll, which writes a whole environment, accepts it.
func checkVar(name, value string, allowFlags bool) error {
	if err := checkName(name); err != nil {
		return err
	}
	if name == flagsVar && !allowFlags {
		return fmt.Errorf("%w: %s is U-Boot's attribute list; write the whole environment to change it", ErrInvalid, flagsVar)
	}
	return checkValue(name, value)
}

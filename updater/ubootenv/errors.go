package ubootenv

import "errors"

// Errors a caller must tell apart. Every error this package returns says in
// its text where and why, and wraps at most one of them.
var (
	// ErrNoValidEnv: no copy has a matching CRC (or could be read). Nothing
	// was written. libubootenv's fw_setenv would fall back to a default
	// environment file; this package never invents one, because a U-Boot
	// that keeps its environment on FAT replaces its whole environment
	// with what it finds (see WriteAll).
	ErrNoValidEnv = errors.New("ubootenv: no valid environment")

	// ErrTooLarge: the variables do not fit in ENVSIZE. Nothing was written.
	ErrTooLarge = errors.New("ubootenv: environment too large")

	// ErrInvalid: a variable name or value that cannot be stored or printed
	// unambiguously (empty name, '=', NUL or newline in a name, NUL or
	// newline in a value, or ".flags"). Nothing was written.
	ErrInvalid = errors.New("ubootenv: invalid variable")

	// ErrReadOnly: the environment's .flags mark the variable read-only or
	// write-once, and libubootenv's fw_setenv would refuse the change too.
	// Nothing was written.
	ErrReadOnly = errors.New("ubootenv: variable is read-only")

	// ErrBadConfig: fw_env.config, or a Config, is malformed or names
	// something this package cannot use.
	ErrBadConfig = errors.New("ubootenv: bad configuration")

	// ErrCorrupt: a data area that is not a well-formed environment.
	ErrCorrupt = errors.New("ubootenv: corrupt environment")
)

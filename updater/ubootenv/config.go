package ubootenv

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

const (
	// DefaultConfigPath is where fw_printenv and `lockd bootenv` look for
	// the configuration.
	DefaultConfigPath = "/etc/fw_env.config"

	// maxConfigSize bounds what ParseConfig reads: a real fw_env.config is
	// a few lines.
	maxConfigSize = 1 << 20

	// MaxEnvSize bounds ENVSIZE. U-Boot environments are kilobytes; the
	// bound keeps a typo in a config from allocating gigabytes.
	MaxEnvSize = 16 << 20
)

// Location is one copy of the environment: a line of fw_env.config.
type Location struct {
	// Path is the file or block device, as written in the config.
	// Relative paths are relative to the working directory, as in
	// libubootenv.
	Path string
	// Offset of the copy in Path. Negative counts back from the end of a
	// block device.
	Offset int64
	// Size is ENVSIZE, the size of the copy including its header.
	Size int64
	// SectorSize and Sectors matter only for MTD flash, which this package
	// does not drive; they are kept so a config round-trips.
	SectorSize, Sectors int64
	// Source is where the copy was configured ("FILE:LINE"), for messages.
	Source string
}

// String names the copy for messages.
func (l Location) String() string {
	s := fmt.Sprintf("%s at offset %#x", l.Path, l.Offset)
	if l.Offset < 0 {
		s = fmt.Sprintf("%s at offset -%#x", l.Path, -l.Offset)
	}
	if l.Source != "" {
		s += " (" + l.Source + ")"
	}
	return s
}

// Config is a parsed fw_env.config: one copy, or two for a redundant
// environment.
type Config struct {
	Copies []Location
}

// Redundant reports whether the environment has two copies (a flags byte
// after the CRC).
func (c Config) Redundant() bool { return len(c.Copies) == 2 }

// ParseConfig reads a libubootenv fw_env.config: lines of
//
//	DEVICE OFFSET ENVSIZE [SECTORSIZE [SECTORS [DISABLELOCK]]]
//
// separated by blanks; '#' starts a comment (at the start of a line or of a
// field); blank lines are skipped. OFFSET is a C integer as strtoll reads
// it with base 0 (0x… hex, 0… octal, otherwise decimal, an optional sign).
// ENVSIZE, SECTORSIZE and SECTORS are always hexadecimal, with or without
// 0x: libubootenv reads them with %zx/%lx, so "16384" means 0x16384, and
// this parser must agree with fw_printenv on every byte it touches. One
// line is a single copy, two are redundant copies of the same size.
// libubootenv silently skips a line it cannot read and ignores lines after
// the second copy; this parser reports both, naming the file and line.
func ParseConfig(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return Config{}, fmt.Errorf("%w: read %s: %w", ErrBadConfig, path, err)
	}
	if len(data) > maxConfigSize {
		return Config{}, fmt.Errorf("%w: %s: larger than %d bytes", ErrBadConfig, path, maxConfigSize)
	}
	return parseConfig(path, data)
}

// parseConfig parses the text of a config file named name.
func parseConfig(name string, data []byte) (Config, error) {
	var cfg Config
	for i, line := range bytes.Split(data, []byte("\n")) {
		where := fmt.Sprintf("%s:%d", name, i+1)
		fields := strings.Fields(string(line))
		for j, f := range fields {
			if strings.HasPrefix(f, "#") {
				fields = fields[:j]
				break
			}
		}
		if len(fields) == 0 {
			continue
		}
		if len(cfg.Copies) == 2 {
			return Config{}, fmt.Errorf("%w: %s: a third copy; at most two (redundant) are allowed", ErrBadConfig, where)
		}
		loc, err := parseLine(fields)
		if err != nil {
			return Config{}, fmt.Errorf("%w: %s: %w", ErrBadConfig, where, err)
		}
		loc.Source = where
		cfg.Copies = append(cfg.Copies, loc)
	}
	if len(cfg.Copies) == 0 {
		return Config{}, fmt.Errorf("%w: %s: no environment configured", ErrBadConfig, name)
	}
	if err := cfg.validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// parseLine reads the fields of one config line.
func parseLine(fields []string) (Location, error) {
	if len(fields) < 3 || len(fields) > 6 {
		return Location{}, fmt.Errorf("%d fields, want DEVICE OFFSET ENVSIZE [SECTORSIZE [SECTORS [DISABLELOCK]]]", len(fields))
	}
	loc := Location{Path: fields[0]}
	var err error
	if loc.Offset, err = parseCInt(fields[1]); err != nil {
		return Location{}, fmt.Errorf("OFFSET %q: %w", fields[1], err)
	}
	hex := []struct {
		name string
		dst  *int64
	}{{"ENVSIZE", &loc.Size}, {"SECTORSIZE", &loc.SectorSize}, {"SECTORS", &loc.Sectors}}
	for k, h := range hex {
		if 2+k >= len(fields) {
			break
		}
		if *h.dst, err = parseHex(fields[2+k]); err != nil {
			return Location{}, fmt.Errorf("%s %q: %w", h.name, fields[2+k], err)
		}
	}
	// libubootenv ≥ 0.3.3 reads a sixth field, 0 or 1, that disables
	// MTD's MEMLOCK ioctl; it means nothing for files and block devices.
	if len(fields) == 6 && fields[5] != "0" && fields[5] != "1" {
		return Location{}, fmt.Errorf("DISABLELOCK %q: want 0 or 1", fields[5])
	}
	return loc, nil
}

// parseCInt reads an integer as strtoll(s, NULL, 0) does, but only whole
// fields: an optional sign, then 0x… (hex), 0… (octal) or decimal digits.
func parseCInt(s string) (int64, error) {
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	base := 10
	switch {
	case strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X"):
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	u, err := parseDigits(s, base)
	if err != nil {
		return 0, err
	}
	if neg {
		return -int64(u), nil
	}
	return int64(u), nil
}

// parseHex reads a hexadecimal size with an optional 0x, as %zx does.
func parseHex(s string) (int64, error) {
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		s = s[2:]
	}
	u, err := parseDigits(s, 16)
	return int64(u), err
}

// parseDigits parses digits only (no sign, prefix or '_') below 2^62, far
// beyond any device.
func parseDigits(s string, base int) (uint64, error) {
	if s == "" || strings.ContainsAny(s, "+-_") {
		return 0, fmt.Errorf("not a base-%d number", base)
	}
	u, err := strconv.ParseUint(s, base, 62)
	if err != nil {
		return 0, fmt.Errorf("not a base-%d number below 2^62", base)
	}
	return u, nil
}

// validate checks what libubootenv checks (a size, equal sizes for both
// copies) and what this package needs (sizes it can hold in memory, copies
// that do not overlap on the same device).
func (c Config) validate() error {
	if n := len(c.Copies); n != 1 && n != 2 {
		return fmt.Errorf("%w: %d copies, want 1 or 2", ErrBadConfig, n)
	}
	minSize := int64(headerSize(c.Redundant()) + 1)
	for _, l := range c.Copies {
		switch {
		case l.Path == "":
			return fmt.Errorf("%w: %s: empty device path", ErrBadConfig, l)
		case l.Size < minSize || l.Size > MaxEnvSize:
			return fmt.Errorf("%w: %s: ENVSIZE %#x outside [%#x, %#x]", ErrBadConfig, l, l.Size, minSize, MaxEnvSize)
		case l.Size != c.Copies[0].Size:
			return fmt.Errorf("%w: %s: ENVSIZE %#x differs from the first copy's %#x", ErrBadConfig, l, l.Size, c.Copies[0].Size)
		}
	}
	if c.Redundant() && c.Copies[0].Path == c.Copies[1].Path && overlap(c.Copies[0], c.Copies[1]) {
		return fmt.Errorf("%w: %s and %s overlap", ErrBadConfig, c.Copies[0], c.Copies[1])
	}
	return nil
}

// overlap reports whether two copies on the same device share a byte.
// Offsets of different signs are resolved only at Open.
func overlap(a, b Location) bool {
	if (a.Offset < 0) != (b.Offset < 0) {
		return false
	}
	return a.Offset < b.Offset+b.Size && b.Offset < a.Offset+a.Size
}

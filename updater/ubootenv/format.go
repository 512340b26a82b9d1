package ubootenv

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
)

// flagsVar is U-Boot's variable of per-variable attributes. libubootenv
// hides it from fw_printenv and writes it last.
const flagsVar = ".flags"

// Var is one variable as stored in a data area.
type Var struct {
	Name, Value string
}

// headerSize is the number of bytes before the data area: the CRC, and for
// redundant copies the flags byte.
func headerSize(redundant bool) int {
	if redundant {
		return 5
	}
	return 4
}

// ParseEnv parses a data area (a copy without its CRC and flags byte):
// "name=value\x00" strings ended by an empty string. It returns the
// variables in stored order, duplicates included (the last one counts, as
// in U-Boot and libubootenv). Like libubootenv, it skips a string without
// '='. A string or a list that runs off the end of data is ErrCorrupt.
func ParseEnv(data []byte) ([]Var, error) {
	var vars []Var
	for off := 0; ; {
		if off >= len(data) {
			return nil, fmt.Errorf("%w: no end marker (empty string) in %d bytes", ErrCorrupt, len(data))
		}
		n := bytes.IndexByte(data[off:], 0)
		if n < 0 {
			return nil, fmt.Errorf("%w: unterminated string at offset %d", ErrCorrupt, off)
		}
		if n == 0 {
			return vars, nil
		}
		if name, value, ok := strings.Cut(string(data[off:off+n]), "="); ok {
			vars = append(vars, Var{Name: name, Value: value})
		}
		off += n + 1
	}
}

// toMap turns stored variables into one value per name, the last one
// winning.
func toMap(vars []Var) map[string]string {
	m := make(map[string]string, len(vars))
	for _, v := range vars {
		m[v.Name] = v.Value
	}
	return m
}

// sortedNames returns the names in the order U-Boot and libubootenv store
// them: bytewise (strcmp), with .flags last.
func sortedNames(vars map[string]string) []string {
	names := make([]string, 0, len(vars))
	for n := range vars {
		if n != flagsVar {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	if _, ok := vars[flagsVar]; ok {
		names = append(names, flagsVar)
	}
	return names
}

// encodeData lays vars out in a data area of size bytes: sorted, then the
// final NUL, then 0x00 padding as U-Boot's saveenv writes it.
func encodeData(vars map[string]string, size int) ([]byte, error) {
	need := 1
	for n, v := range vars {
		need += len(n) + 1 + len(v) + 1
	}
	if need > size {
		return nil, fmt.Errorf("%w: the variables need %d bytes, the data area holds %d", ErrTooLarge, need, size)
	}
	data := make([]byte, 0, size)
	for _, n := range sortedNames(vars) {
		data = append(data, n...)
		data = append(data, '=')
		data = append(data, vars[n]...)
		data = append(data, 0)
	}
	return data[:size], nil // the rest of the capacity is zeroed: the end marker and padding
}

// encodeBlock builds a whole copy from its data area.
func encodeBlock(data []byte, redundant bool, flags byte) []byte {
	h := headerSize(redundant)
	b := make([]byte, h+len(data))
	binary.LittleEndian.PutUint32(b, crc32.ChecksumIEEE(data))
	if redundant {
		b[4] = flags
	}
	copy(b[h:], data)
	return b
}

// decodeBlock checks a whole copy and parses it. The flags byte is returned
// even when the copy is invalid, as libubootenv uses it to number the
// next write.
func decodeBlock(b []byte, redundant bool) (flags byte, vars []Var, err error) {
	h := headerSize(redundant)
	if redundant {
		flags = b[4]
	}
	data := b[h:]
	stored, sum := binary.LittleEndian.Uint32(b), crc32.ChecksumIEEE(data)
	if stored != sum {
		return flags, nil, fmt.Errorf("%w: CRC mismatch (stored %#08x, computed %#08x)", ErrCorrupt, stored, sum)
	}
	vars, err = ParseEnv(data)
	return flags, vars, err
}

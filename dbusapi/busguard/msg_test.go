package busguard

import (
	"encoding/binary"
)

// testField is one header field for buildMsg: a string (sig s, o or g)
// or a uint32 (sig u).
type testField struct {
	code byte
	sig  string
	str  string
	u    uint32
}

// byteOrder is what binary.LittleEndian and binary.BigEndian both are.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// buildMsg encodes a message as the bus would send it.
func buildMsg(order byteOrder, typ, flags byte, serial uint32, fields []testField, body []byte) []byte {
	b := []byte{'l', typ, flags, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if order == byteOrder(binary.BigEndian) {
		b[0] = 'B'
	}
	pad := func(to int) {
		for len(b)%to != 0 {
			b = append(b, 0)
		}
	}
	for _, f := range fields {
		pad(8)
		b = append(b, f.code, byte(len(f.sig)))
		b = append(b, f.sig...)
		b = append(b, 0)
		switch f.sig {
		case "u":
			pad(4)
			b = order.AppendUint32(b, f.u)
		case "g":
			b = append(b, byte(len(f.str)))
			b = append(b, f.str...)
			b = append(b, 0)
		default:
			pad(4)
			b = order.AppendUint32(b, uint32(len(f.str)))
			b = append(b, f.str...)
			b = append(b, 0)
		}
	}
	fieldsLen := len(b) - fixedLen
	pad(8)
	order.PutUint32(b[4:], uint32(len(body)))
	order.PutUint32(b[8:], serial)
	order.PutUint32(b[12:], uint32(fieldsLen))
	return append(b, body...)
}

// callFields are the header fields of a method call from sender.
func callFields(sender, path, iface, member, sig string, fds uint32) []testField {
	f := []testField{
		{code: fieldPath, sig: "o", str: path},
		{code: fieldInterface, sig: "s", str: iface},
		{code: fieldMember, sig: "s", str: member},
		{code: fieldSender, sig: "s", str: sender},
		{code: fieldDestination, sig: "s", str: ":1.1"},
	}
	if sig != "" {
		f = append(f, testField{code: fieldSignature, sig: "g", str: sig})
	}
	if fds > 0 {
		f = append(f, testField{code: fieldUnixFDs, sig: "u", u: fds})
	}
	return f
}

// installCall is the one call the tests let keep a descriptor.
var installCall = Call{Path: "/io/lockd/Lock1", Interface: "io.lockd.Update1", Member: "Install", Signature: "h"}

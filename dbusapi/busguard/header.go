package busguard

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Message types and the flag the relay looks at (D-Bus specification,
// "Message Format").
const (
	typeMethodCall   = 1
	typeMethodReturn = 2
	typeError        = 3
	typeSignal       = 4

	flagNoReplyExpected = 0x1
)

// Header field codes.
const (
	fieldPath        = 1
	fieldInterface   = 2
	fieldMember      = 3
	fieldErrorName   = 4
	fieldReplySerial = 5
	fieldDestination = 6
	fieldSender      = 7
	fieldSignature   = 8
	fieldUnixFDs     = 9
)

// fixedLen is the length of the fixed part of every message header.
const fixedLen = 16

// Bounds of the protocol itself: the specification caps a message at
// 128 MiB and its header field array at 64 MiB. Beyond them the stream is
// not D-Bus, and the relay ends the connection.
const (
	maxMessage     = 1 << 27
	maxFieldsArray = 1 << 26
)

// errProtocol marks a stream the relay cannot frame; the connection ends.
var errProtocol = errors.New("busguard: not a D-Bus message stream")

// fixed is the fixed part of a message header.
type fixed struct {
	order     binary.ByteOrder
	typ       byte
	flags     byte
	bodyLen   uint32
	serial    uint32
	fieldsLen uint32 // length of the header field array, without padding
}

// parseFixed reads the first 16 bytes of a message.
func parseFixed(b []byte) (fixed, error) {
	var f fixed
	switch b[0] {
	case 'l':
		f.order = binary.LittleEndian
	case 'B':
		f.order = binary.BigEndian
	default:
		return f, fmt.Errorf("%w: byte order %#x", errProtocol, b[0])
	}
	if b[3] != 1 {
		return f, fmt.Errorf("%w: protocol version %d", errProtocol, b[3])
	}
	f.typ, f.flags = b[1], b[2]
	f.bodyLen = f.order.Uint32(b[4:8])
	f.serial = f.order.Uint32(b[8:12])
	f.fieldsLen = f.order.Uint32(b[12:16])
	if f.fieldsLen > maxFieldsArray || uint64(f.headerLen())+uint64(f.bodyLen) > maxMessage {
		return f, fmt.Errorf("%w: message of %d + %d bytes", errProtocol, f.fieldsLen, f.bodyLen)
	}
	return f, nil
}

// headerLen is the length of the whole header with the padding that
// aligns the body to 8.
func (f fixed) headerLen() int {
	return align(fixedLen+int(f.fieldsLen), 8)
}

func align(n, to int) int { return (n + to - 1) / to * to }

// header is what the relay needs of a message's header fields. Strings
// longer than maxKept are not kept (long is set), which only a PATH can
// be: every other string field is a name of at most 255 bytes.
type header struct {
	fixed
	path, iface, member, sender, signature string
	unixFDs                                uint32
	fdsAt                                  int  // offset of the UNIX_FDS value in the message; -1: none
	long                                   bool // a string field longer than maxKept
}

// maxKept is the longest header string the relay keeps.
const maxKept = 1024

// source is where header fields are parsed from: the message buffered in
// memory, or the stream itself for a header too large to buffer.
type source interface {
	// take returns the next n bytes (n <= maxKept+1).
	take(n int) ([]byte, error)
	// skip discards the next n bytes.
	skip(n int) error
}

// fieldParser parses the header field array, a(yv), tracking the offset
// in the message for alignment.
type fieldParser struct {
	src   source
	order binary.ByteOrder
	pos   int
}

// parseFields reads the header field array and the padding after it
// (src starts at offset 16 of the message).
func parseFields(src source, f fixed) (header, error) {
	h := header{fixed: f, fdsAt: -1}
	p := &fieldParser{src: src, order: f.order, pos: fixedLen}
	end := fixedLen + int(f.fieldsLen)
	for p.pos < end {
		if err := p.pad(8); err != nil {
			return h, err
		}
		if p.pos >= end {
			return h, fmt.Errorf("%w: header field padding past the array", errProtocol)
		}
		if err := p.field(&h); err != nil {
			return h, err
		}
		if p.pos > end {
			return h, fmt.Errorf("%w: header field past the array", errProtocol)
		}
	}
	return h, p.pad(8)
}

// field parses one (yv) entry into h.
func (p *fieldParser) field(h *header) error {
	b, err := p.take(1)
	if err != nil {
		return err
	}
	code := b[0]
	sig, err := p.signature()
	if err != nil {
		return err
	}
	switch {
	case code == fieldUnixFDs && sig == "u":
		if err := p.pad(4); err != nil {
			return err
		}
		h.fdsAt = p.pos
		v, err := p.take(4)
		if err != nil {
			return err
		}
		h.unixFDs = p.order.Uint32(v)
		return nil
	case sig == "s" || sig == "o":
		s, kept, err := p.str()
		if err != nil {
			return err
		}
		h.long = h.long || !kept
		switch code {
		case fieldPath:
			h.path = s
		case fieldInterface:
			h.iface = s
		case fieldMember:
			h.member = s
		case fieldSender:
			h.sender = s
		}
		return nil
	case sig == "g" && code == fieldSignature:
		s, err := p.signature()
		h.signature = s
		return err
	}
	// Another field, or a known one with an unexpected type: skip it.
	// dbus-daemon drops fields it does not know, so this is for a bus
	// that does not.
	return p.skipValue(sig, 0)
}

func (p *fieldParser) take(n int) ([]byte, error) {
	b, err := p.src.take(n)
	p.pos += n
	return b, err
}

func (p *fieldParser) skip(n int) error {
	p.pos += n
	return p.src.skip(n)
}

// pad skips to the next multiple of to.
func (p *fieldParser) pad(to int) error {
	return p.skip(align(p.pos, to) - p.pos)
}

// signature reads a g: a length byte, the signature and a NUL.
func (p *fieldParser) signature() (string, error) {
	b, err := p.take(1)
	if err != nil {
		return "", err
	}
	s, err := p.take(int(b[0]) + 1)
	if err != nil {
		return "", err
	}
	return string(s[:len(s)-1]), nil
}

// str reads an s or o, keeping it when it is at most maxKept bytes.
func (p *fieldParser) str() (s string, kept bool, err error) {
	n, err := p.uint32()
	if err != nil {
		return "", false, err
	}
	if n > maxKept {
		return "", false, p.skipLong(int64(n) + 1)
	}
	b, err := p.take(int(n) + 1)
	if err != nil {
		return "", false, err
	}
	return string(b[:n]), true, nil
}

func (p *fieldParser) uint32() (uint32, error) {
	if err := p.pad(4); err != nil {
		return 0, err
	}
	b, err := p.take(4)
	if err != nil {
		return 0, err
	}
	return p.order.Uint32(b), nil
}

// skipLong skips n bytes that the array length already bounds.
func (p *fieldParser) skipLong(n int64) error {
	if n > maxFieldsArray {
		return fmt.Errorf("%w: header value of %d bytes", errProtocol, n)
	}
	return p.skip(int(n))
}

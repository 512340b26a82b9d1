package busguard

import (
	"fmt"
)

// busDriver is the bus itself: it sends lockd its replies (credentials
// with group lists) and NameAcquired; it is trusted, so its bodies are not
// bounded. Its name cannot be owned by a client.
const busDriver = "org.freedesktop.DBus"

// downstream frames what the bus sends and passes each message on to
// godbus, with at most the one descriptor a listed call takes.
type downstream struct {
	in        *inbox
	fdCalls   []Call
	maxBody   int
	maxFields int
	// out writes one whole message to godbus with fd (-1: none); the
	// downstream closes fd afterwards.
	out func(msg []byte, fd int) error
	// refuse reports a method call that was refused; it must not block.
	refuse func(Refusal)
	// closed counts descriptors closed, for the log.
	closed int
	msg    []byte // the message being relayed, reused
}

// next relays or refuses one message.
func (d *downstream) next() error {
	if d.in.buffered() == 0 {
		// No byte of the next message has come, so neither have its
		// descriptors: anything queued belongs to no message.
		d.closed += d.in.closeFDs()
	}
	b, err := d.in.take(fixedLen)
	if err != nil {
		return err
	}
	f, err := parseFixed(b)
	if err != nil {
		return err
	}
	var h header
	n := f.headerLen()
	overFields := int(f.fieldsLen) > d.maxFields
	if overFields {
		// Too large to buffer: parse it as it streams past, for the
		// descriptor count and the caller to answer.
		h, err = parseFields(d.in, f)
	} else {
		d.msg = grow(d.msg, n)
		copy(d.msg, b)
		if err = d.in.readFull(d.msg[fixedLen:n]); err == nil {
			h, err = parseFields(&memSource{b: d.msg[fixedLen:n]}, f)
		}
	}
	if err != nil {
		return err
	}
	fds, err := d.in.takeFDs(h.unixFDs)
	if err != nil {
		return err
	}
	if why := d.tooLarge(h, overFields); why != "" {
		d.closed += d.in.closeAll(fds)
		if err := d.in.skip(int(h.bodyLen)); err != nil {
			return err
		}
		d.report(h, why)
		return nil
	}
	d.msg = grow(d.msg, n+int(h.bodyLen))
	msg := d.msg[:n+int(h.bodyLen)]
	if err := d.in.readFull(msg[n:]); err != nil {
		d.closed += d.in.closeAll(fds)
		return err
	}
	keep := d.keep(h, msg[n:], fds)
	for i, fd := range fds {
		if i != keep {
			d.in.closeFD(fd)
			d.closed++
		}
	}
	fd := -1
	if keep >= 0 {
		fd = fds[keep]
		h.order.PutUint32(msg[n:], 0) // the index of the one descriptor passed on
	}
	if h.fdsAt >= 0 {
		count := uint32(0)
		if fd >= 0 {
			count = 1
		}
		h.order.PutUint32(msg[h.fdsAt:], count) // same length: nothing moves
	}
	err = d.out(msg, fd)
	if fd >= 0 {
		d.in.closeFD(fd) // godbus has its own copy now, or none if out failed
	}
	return err
}

// tooLarge says why a message is refused unread, or "".
func (d *downstream) tooLarge(h header, overFields bool) string {
	switch {
	case overFields:
		return fmt.Sprintf("the message's header fields are %d bytes; this service takes at most %d", h.fieldsLen, d.maxFields)
	case h.long:
		return fmt.Sprintf("the message's object path is longer than %d bytes", maxKept)
	case int64(h.bodyLen) > int64(d.maxBody) && h.sender != busDriver:
		return fmt.Sprintf("the message's body is %d bytes; this service takes at most %d", h.bodyLen, d.maxBody)
	}
	return ""
}

// report hands a refused method call to the service to answer; other
// messages and calls that want no reply are dropped silently.
func (d *downstream) report(h header, why string) {
	if h.typ != typeMethodCall || h.flags&flagNoReplyExpected != 0 || h.sender == "" {
		return
	}
	method := h.member
	if h.iface != "" {
		method = h.iface + "." + h.member
	}
	d.refuse(Refusal{Sender: h.sender, Serial: h.serial, Method: method, Reason: why})
}

// keep returns the index in fds of the descriptor a listed call's first
// argument names, or -1.
func (d *downstream) keep(h header, body []byte, fds []int) int {
	if h.typ != typeMethodCall || len(fds) == 0 || len(body) < 4 {
		return -1
	}
	for _, c := range d.fdCalls {
		if c.Path == h.path && c.Interface == h.iface && c.Member == h.member && c.Signature == h.signature {
			if i := h.order.Uint32(body); uint64(i) < uint64(len(fds)) {
				return int(i)
			}
			return -1
		}
	}
	return -1
}

// grow returns b resized to n bytes, keeping its content and reusing its
// array when it is big enough.
func grow(b []byte, n int) []byte {
	if cap(b) >= n {
		return b[:n]
	}
	return append(b[:cap(b)], make([]byte, n-cap(b))...)
}

// memSource is a header held in memory.
type memSource struct {
	b   []byte
	pos int
}

func (m *memSource) take(n int) ([]byte, error) {
	if n > len(m.b)-m.pos {
		return nil, fmt.Errorf("%w: header field past the header", errProtocol)
	}
	b := m.b[m.pos : m.pos+n]
	m.pos += n
	return b, nil
}

func (m *memSource) skip(n int) error {
	_, err := m.take(n)
	return err
}

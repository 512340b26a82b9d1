package busguard

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"syscall"
)

// maxFDsPerRead is SCM_MAX_FD: the most descriptors one sendmsg can pass,
// and so the most one recvmsg of a stream socket returns.
const maxFDsPerRead = 253

// errTruncated: the kernel closed descriptors that did not fit (see the
// package comment on MSG_CTRUNC).
var errTruncated = errors.New("busguard: descriptors were lost in transit (MSG_CTRUNC); ending the connection")

// readFunc is (*net.UnixConn).ReadMsgUnix without the address: Go passes
// MSG_CMSG_CLOEXEC on Linux, so no received descriptor leaks into a child
// process.
type readFunc func(p, oob []byte) (n, oobn, flags int, err error)

// inbox buffers what one side of the relay receives: bytes and, in the
// order they came, the descriptors that came with them.
type inbox struct {
	read readFunc
	buf  []byte
	r, w int // unread bytes are buf[r:w]
	oob  []byte
	fds  []int
	// closeFD closes a received descriptor (a fake in the fuzz test).
	closeFD func(fd int)
}

func newInbox(read readFunc, size int) *inbox {
	return &inbox{read: read, buf: make([]byte, size), oob: make([]byte, syscall.CmsgSpace(maxFDsPerRead*4)),
		closeFD: func(fd int) { _ = syscall.Close(fd) }}
}

// buffered is the number of bytes read but not consumed.
func (in *inbox) buffered() int { return in.w - in.r }

// fill reads once into the free end of the buffer. Descriptors are queued
// even when the read also fails, so that they are closed.
func (in *inbox) fill() error {
	if in.r > 0 {
		in.w = copy(in.buf, in.buf[in.r:in.w])
		in.r = 0
	}
	if in.w == len(in.buf) {
		return errors.New("busguard: read buffer full") // a caller asked for more than fits: a bug
	}
	n, oobn, flags, err := in.read(in.buf[in.w:], in.oob)
	if oobn > 0 {
		if qerr := in.queue(in.oob[:oobn]); qerr != nil && err == nil {
			err = qerr
		}
	}
	in.w += n
	switch {
	case flags&syscall.MSG_CTRUNC != 0:
		return errTruncated
	case err != nil:
		return err
	case n == 0:
		return io.EOF
	}
	return nil
}

// queue appends the descriptors of SCM_RIGHTS messages in oob.
func (in *inbox) queue(oob []byte) error {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return fmt.Errorf("busguard: control message: %w", err)
	}
	for i := range msgs {
		if msgs[i].Header.Level != syscall.SOL_SOCKET || msgs[i].Header.Type != syscall.SCM_RIGHTS {
			continue
		}
		fds, err := syscall.ParseUnixRights(&msgs[i])
		if err != nil {
			return fmt.Errorf("busguard: descriptors: %w", err)
		}
		in.fds = append(in.fds, fds...)
	}
	return nil
}

// need reads until at least n bytes are buffered (n <= len(buf)). An end
// of the stream before the first byte is io.EOF: the peer closed between
// messages.
func (in *inbox) need(n int) error {
	for in.buffered() < n {
		if err := in.fill(); err != nil {
			if in.buffered() == 0 && errors.Is(err, io.EOF) {
				return io.EOF
			}
			return unexpected(err)
		}
	}
	return nil
}

// unexpected turns an EOF inside a message into ErrUnexpectedEOF.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// take consumes n bytes; the slice is valid until the next read.
func (in *inbox) take(n int) ([]byte, error) {
	if err := in.need(n); err != nil {
		return nil, err
	}
	b := in.buf[in.r : in.r+n]
	in.r += n
	return b, nil
}

// skip consumes n bytes without keeping them: the bytes of a refused
// message pass through the buffer a chunk at a time.
func (in *inbox) skip(n int) error {
	for n > 0 {
		if in.buffered() == 0 {
			if err := in.fill(); err != nil {
				return unexpected(err)
			}
		}
		k := min(n, in.buffered())
		in.r += k
		n -= k
	}
	return nil
}

// readFull consumes len(p) bytes into p.
func (in *inbox) readFull(p []byte) error {
	for len(p) > 0 {
		if in.buffered() == 0 {
			if err := in.fill(); err != nil {
				return unexpected(err)
			}
		}
		k := copy(p, in.buf[in.r:in.w])
		in.r += k
		p = p[k:]
	}
	return nil
}

// line consumes one SASL line, "\r\n" included, of at most max bytes.
func (in *inbox) line(max int) ([]byte, error) {
	for {
		if i := bytes.Index(in.buf[in.r:in.w], []byte("\r\n")); i >= 0 {
			l := in.buf[in.r : in.r+i+2]
			in.r += i + 2
			return l, nil
		}
		if in.buffered() >= max {
			return nil, fmt.Errorf("%w: authentication line longer than %d bytes", errProtocol, max)
		}
		if err := in.fill(); err != nil {
			return nil, unexpected(err)
		}
	}
}

// takeFDs removes the first n queued descriptors. Fewer than n means the
// stream and the descriptors no longer match: the message's descriptors
// came with its first bytes, which have been read.
func (in *inbox) takeFDs(n uint32) ([]int, error) {
	if uint64(n) > uint64(len(in.fds)) {
		return nil, fmt.Errorf("%w: a message claims %d descriptors, %d came", errProtocol, n, len(in.fds))
	}
	fds := in.fds[:n:n]
	in.fds = in.fds[n:]
	return fds, nil
}

// closeFDs closes every queued descriptor.
func (in *inbox) closeFDs() int {
	n := in.closeAll(in.fds)
	in.fds = in.fds[:0]
	return n
}

// closeAll closes fds and returns how many there were.
func (in *inbox) closeAll(fds []int) int {
	for _, fd := range fds {
		in.closeFD(fd)
	}
	return len(fds)
}

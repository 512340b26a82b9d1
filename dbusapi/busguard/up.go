package busguard

import (
	"net"
	"syscall"
)

// pumpUp copies what godbus sends to the bus unchanged, descriptors
// included (lockd sends none today), starting with what the SASL exchange
// left in the inbox.
func pumpUp(in *inbox, bus *net.UnixConn) error {
	for {
		if in.buffered() > 0 {
			err := writeMsg(bus, in.buf[in.r:in.w], in.fds)
			in.r = in.w
			in.closeFDs() // the kernel holds its own references until they are received
			if err != nil {
				return err
			}
		}
		if err := in.fill(); err != nil {
			return err
		}
	}
}

// writeMsg writes b with fds attached to its first byte. A stream socket
// may take part of b; the descriptors go with that part, the rest follows
// by plain writes.
func writeMsg(c *net.UnixConn, b []byte, fds []int) error {
	if len(fds) == 0 {
		_, err := c.Write(b)
		return err
	}
	n, _, err := c.WriteMsgUnix(b, syscall.UnixRights(fds...), nil)
	if err != nil {
		return err
	}
	_, err = c.Write(b[n:])
	return err
}

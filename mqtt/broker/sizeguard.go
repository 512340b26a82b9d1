package broker

import (
	"fmt"
	"net"
)

// sizeGuard wraps the broker connection and ends it on the first MQTT
// packet whose declared length is over max, before the client allocates
// a buffer of that size (paho reads a whole packet into memory, up to
// the protocol's 256 MiB). The broker honours the Maximum Packet Size
// lockd-mqtt sends in CONNECT and drops what is larger; this guard is
// for a broker that does not, or is not what it claims.
//
// It follows the framing of the bytes as they pass: a fixed-header byte,
// the remaining length (1 to 4 bytes of 7 bits, MQTT's variable byte
// integer), then that many bytes, however the stream is cut into reads.
type sizeGuard struct {
	net.Conn
	max uint32

	state  int    // stHeader, stLength or stBody
	length uint32 // the remaining length read so far, or left to pass
	shift  uint   // stLength: bits read so far
}

const (
	stHeader = iota
	stLength
	stBody
)

// errTooBig is returned once a packet over max is announced.
type errTooBig struct{ n, max uint32 }

func (e errTooBig) Error() string {
	return fmt.Sprintf("broker: the broker sent a packet of %d bytes, over the %d lockd-mqtt reads; connection closed", e.n, e.max)
}

func (g *sizeGuard) Read(p []byte) (int, error) {
	n, err := g.Conn.Read(p)
	if ferr := g.follow(p[:n]); ferr != nil {
		g.Conn.Close()
		return 0, ferr
	}
	return n, err
}

// follow advances the framing over b.
func (g *sizeGuard) follow(b []byte) error {
	for len(b) > 0 {
		switch g.state {
		case stHeader:
			b = b[1:]
			g.state, g.length, g.shift = stLength, 0, 0
		case stLength:
			c := b[0]
			b = b[1:]
			g.length |= uint32(c&0x7f) << g.shift
			g.shift += 7
			if c&0x80 != 0 {
				if g.shift >= 28 {
					return fmt.Errorf("broker: malformed packet length from the broker; connection closed")
				}
				continue
			}
			if g.length > g.max {
				return errTooBig{g.length, g.max}
			}
			g.state = stBody
			if g.length == 0 {
				g.state = stHeader
			}
		case stBody:
			k := min(uint32(len(b)), g.length)
			b = b[k:]
			g.length -= k
			if g.length == 0 {
				g.state = stHeader
			}
		}
	}
	return nil
}

package broker

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
)

// packet frames an MQTT packet with a body of n bytes.
func packet(n int) []byte {
	out := []byte{0x30}
	l := n
	for {
		c := byte(l & 0x7f)
		l >>= 7
		if l > 0 {
			c |= 0x80
		}
		out = append(out, c)
		if l == 0 {
			break
		}
	}
	return append(out, bytes.Repeat([]byte{'x'}, n)...)
}

// readAll reads everything through a guard, chunk bytes per Read.
func readAll(stream []byte, max uint32, chunk int) ([]byte, error) {
	a, b := net.Pipe()
	go func() {
		for len(stream) > 0 {
			k := min(chunk, len(stream))
			if _, err := a.Write(stream[:k]); err != nil {
				return
			}
			stream = stream[k:]
		}
		a.Close()
	}()
	g := &sizeGuard{Conn: b, max: max}
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := g.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func TestSizeGuard(t *testing.T) {
	ok := append(append(packet(0), packet(127)...), packet(128)...)
	ok = append(ok, packet(1000)...)
	for _, chunk := range []int{1, 2, 3, 7, 4096} {
		got, err := readAll(ok, 1000, chunk)
		if err != nil || !bytes.Equal(got, ok) {
			t.Errorf("chunk %d: %d of %d bytes, %v", chunk, len(got), len(ok), err)
		}
		_, err = readAll(append(packet(10), packet(1001)...), 1000, chunk)
		var big errTooBig
		if !errors.As(err, &big) || big.n != 1001 {
			t.Errorf("chunk %d: a 1001-byte packet: %v", chunk, err)
		}
		_, err = readAll([]byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x7f}, 1<<30, chunk)
		if err == nil {
			t.Errorf("chunk %d: a five-byte length was accepted", chunk)
		}
	}
}

// FuzzSizeGuard: any stream cut at any point either passes through
// unchanged or is refused because it announced a packet over the limit
// (or a malformed length); nothing in between.
func FuzzSizeGuard(f *testing.F) {
	f.Add(packet(5), uint16(3))
	f.Add(append(packet(300), packet(2)...), uint16(1))
	f.Add([]byte{0x30, 0x80, 0x80, 0x80, 0x80}, uint16(2))
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint16) {
		if chunk == 0 {
			chunk = 1
		}
		got, err := readAll(stream, 256, int(chunk))
		if err == nil && !bytes.Equal(got, stream) {
			t.Fatalf("passed %d bytes of %d without an error", len(got), len(stream))
		}
		if err != nil {
			// Refused: the framing must really have a packet over 256
			// or a bad length; re-run whole to get the same verdict.
			_, again := readAll(stream, 256, len(stream)+1)
			if again == nil {
				t.Fatalf("refused when cut into %d-byte reads, accepted whole: %v", chunk, err)
			}
		}
	})
}

package busguard

import (
	"encoding/binary"
	"errors"
	"io"
	"syscall"
	"testing"
)

// FuzzDownstream feeds the framer any byte stream the bus could send, cut
// into reads of any size, with fake descriptors (numbers the test only
// counts) coming with the first read. Whatever the bytes: no panic; every
// descriptor is closed exactly once; every message passed on parses, is
// within the bounds, and says in UNIX_FDS exactly how many descriptors
// (0 or 1) came with it.
func FuzzDownstream(f *testing.F) {
	c := installCall
	f.Add(buildMsg(binary.LittleEndian, typeMethodCall, 0, 7,
		callFields(":1.9", "/io/lockd/Lock1", "org.freedesktop.DBus.Properties", "GetAll", "s", 2),
		append(binary.LittleEndian.AppendUint32(nil, 2), "ab\x00"...)), uint8(3), uint8(2))
	f.Add(buildMsg(binary.BigEndian, typeMethodCall, 0, 8,
		callFields(":1.9", c.Path, c.Interface, c.Member, "h", 3), binary.BigEndian.AppendUint32(nil, 2)), uint8(0), uint8(3))
	f.Add(buildMsg(binary.LittleEndian, typeSignal, 0, 9,
		callFields("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameAcquired", "s", 0),
		append(binary.LittleEndian.AppendUint32(nil, 4), ":1.1\x00"...)), uint8(200), uint8(0))
	f.Add(append(buildMsg(binary.LittleEndian, typeMethodCall, 0, 10,
		callFields(":1.9", "/x", "a.b", "C", "s", 0), append(binary.LittleEndian.AppendUint32(nil, 200), make([]byte, 201)...)),
		buildMsg(binary.LittleEndian, typeMethodReturn, 0, 11, []testField{{code: fieldReplySerial, sig: "u", u: 3}}, nil)...),
		uint8(17), uint8(1))
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8, nfds uint8) {
		closed := map[int]int{}
		var queued []int // descriptors come with bytes: none with an empty stream
		for i := range int(nfds%20) * min(len(stream), 1) {
			queued = append(queued, 1<<20+i)
		}
		first := true
		read := func(p, oob []byte) (int, int, int, error) {
			if len(stream) == 0 {
				return 0, 0, 0, io.EOF
			}
			n := copy(p[:min(len(p), 1+int(chunk%64))], stream)
			stream = stream[n:]
			oobn := 0
			if first && len(queued) > 0 {
				oobn = copy(oob, syscall.UnixRights(queued...))
			}
			first = false
			return n, oobn, 0, nil
		}
		in := newInbox(read, 4096)
		in.closeFD = func(fd int) { closed[fd]++ }
		var passed int
		d := &downstream{in: in, fdCalls: []Call{installCall}, maxBody: 512, maxFields: 256,
			out: func(msg []byte, fd int) error {
				checkPassed(t, msg, fd)
				passed++
				return nil
			},
			refuse: func(Refusal) {}}
		var err error
		for err == nil {
			err = d.next()
		}
		in.closeFDs()
		if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, errProtocol) {
			t.Errorf("framer ended with %v", err)
		}
		for _, fd := range queued {
			if closed[fd] != 1 {
				t.Errorf("descriptor %d closed %d times", fd, closed[fd])
			}
		}
	})
}

// checkPassed checks a message the framer passed on.
func checkPassed(t *testing.T, msg []byte, fd int) {
	t.Helper()
	f, err := parseFixed(msg)
	if err != nil {
		t.Fatalf("passed on a message that does not parse: %v", err)
	}
	if len(msg) != f.headerLen()+int(f.bodyLen) || int(f.fieldsLen) > 256 {
		t.Fatalf("passed on %d bytes for a header of %d and a body of %d", len(msg), f.headerLen(), f.bodyLen)
	}
	h, err := parseFields(&memSource{b: msg[fixedLen:f.headerLen()]}, f)
	if err != nil {
		t.Fatalf("passed on a header that does not parse: %v", err)
	}
	if f.bodyLen > 512 && h.sender != busDriver {
		t.Fatalf("passed on a body of %d bytes from %q", f.bodyLen, h.sender)
	}
	want := uint32(0)
	if fd >= 0 {
		want = 1
	}
	if h.unixFDs != want {
		t.Fatalf("passed on UNIX_FDS %d with %d descriptors", h.unixFDs, want)
	}
}

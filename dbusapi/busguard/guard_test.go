package busguard

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeBus is the bus side of a guarded connection: the test speaks for
// dbus-daemon on bus and for godbus on client.
type fakeBus struct {
	g      *Guard
	bus    *net.UnixConn
	client *net.UnixConn
}

// newFakeBus dials a socket the test listens on and runs the SASL
// exchange godbus runs, checking it passes through unchanged.
func newFakeBus(t *testing.T, cfg Config) *fakeBus {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "bus")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	g, err := Dial(context.Background(), "unix:path="+strings.ReplaceAll(sock, "/", "%2f"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	bus, err := l.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bus.Close() })
	f := &fakeBus{g: g, bus: bus, client: g.Client()}
	exchange := []struct{ client, bus string }{
		{"\x00AUTH\r\n", "REJECTED EXTERNAL\r\n"},
		{"AUTH EXTERNAL 30\r\n", "OK 0123456789abcdef\r\n"},
		{"NEGOTIATE_UNIX_FD\r\n", "AGREE_UNIX_FD\r\n"},
	}
	for _, x := range exchange {
		f.write(t, f.client, []byte(x.client), nil)
		f.expect(t, f.bus, x.client)
		f.write(t, f.bus, []byte(x.bus), nil)
		f.expect(t, f.client, x.bus)
	}
	f.write(t, f.client, []byte("BEGIN\r\n"), nil)
	f.expect(t, f.bus, "BEGIN\r\n")
	return f
}

func (f *fakeBus) write(t *testing.T, c *net.UnixConn, b []byte, fds []int) {
	t.Helper()
	if err := writeMsg(c, b, fds); err != nil {
		t.Fatal(err)
	}
}

// expect reads exactly len(want) bytes from c and compares them.
func (f *fakeBus) expect(t *testing.T, c *net.UnixConn, want string) {
	t.Helper()
	got := make([]byte, len(want))
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read %q: %v", want, err)
	}
	if string(got) != want {
		t.Fatalf("read %q, want %q", got, want)
	}
}

// receive reads one message from the client side and the descriptors that
// came with it.
func (f *fakeBus) receive(t *testing.T) ([]byte, []int) {
	t.Helper()
	_ = f.client.SetReadDeadline(time.Now().Add(10 * time.Second))
	in := newInbox(readMsg(f.client), 1<<20)
	b, err := in.take(fixedLen)
	if err != nil {
		t.Fatal(err)
	}
	fx, err := parseFixed(b)
	if err != nil {
		t.Fatal(err)
	}
	msg := append([]byte(nil), b...)
	rest := make([]byte, fx.headerLen()-fixedLen+int(fx.bodyLen))
	if err := in.readFull(rest); err != nil {
		t.Fatal(err)
	}
	if in.buffered() != 0 {
		t.Fatalf("%d bytes beyond the message: the test reads one message at a time", in.buffered())
	}
	return append(msg, rest...), in.fds
}

// pipes returns the read ends of n pipes (sent to lockd) and keeps the
// write ends, which tell whether anyone still holds a read end.
func pipes(t *testing.T, n int) (reads []int, writes []*os.File) {
	t.Helper()
	for range n {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close(); w.Close() })
		fd, err := syscall.Dup(int(r.Fd()))
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		reads = append(reads, fd)
		writes = append(writes, w)
	}
	return reads, writes
}

// sendAndClose sends b with fds from the bus side and closes the test's
// copies: from then on only the relay (or the client) holds them.
func (f *fakeBus) sendAndClose(t *testing.T, b []byte, fds []int) {
	t.Helper()
	f.write(t, f.bus, b, fds)
	for _, fd := range fds {
		syscall.Close(fd)
	}
}

// open reports whether anyone holds the read end of the pipe w writes.
func open(w *os.File) bool {
	_, err := w.Write([]byte("x"))
	return err == nil
}

// lastField is the offset of the value of the last header field, a u:
// the end of the field array less 4.
func lastField(msg []byte) int {
	f, err := parseFixed(msg)
	if err != nil {
		panic(err)
	}
	return fixedLen + int(f.fieldsLen) - 4
}

// TestStrayDescriptorsClosed: a call that takes no descriptor reaches
// the client with UNIX_FDS 0 and none of the 16 it came with; all of them
// are closed.
func TestStrayDescriptorsClosed(t *testing.T) {
	f := newFakeBus(t, Config{FDCalls: []Call{installCall}})
	reads, writes := pipes(t, 16)
	body := binary.LittleEndian.AppendUint32(nil, 14)
	body = append(body, "io.lockd.Lock1\x00"...)
	msg := buildMsg(binary.LittleEndian, typeMethodCall, 0, 7,
		callFields(":1.9", "/io/lockd/Lock1", "org.freedesktop.DBus.Properties", "GetAll", "s", 16), body)
	f.sendAndClose(t, msg, reads)
	got, fds := f.receive(t)
	if len(fds) != 0 {
		t.Errorf("the client received %d descriptors", len(fds))
	}
	want := bytes.Clone(msg)
	binary.LittleEndian.PutUint32(want[lastField(want):], 0)
	if !bytes.Equal(got, want) {
		t.Errorf("relayed message differs beyond UNIX_FDS:\n got %q\nwant %q", got, want)
	}
	for i, w := range writes {
		if open(w) {
			t.Errorf("descriptor %d still open", i)
		}
	}
}

// TestInstallKeepsItsDescriptor: Install keeps the one descriptor its
// argument names (index 2 of 3, big-endian), renumbered 0; the others
// close.
func TestInstallKeepsItsDescriptor(t *testing.T) {
	f := newFakeBus(t, Config{FDCalls: []Call{installCall}})
	reads, writes := pipes(t, 3)
	c := installCall
	msg := buildMsg(binary.BigEndian, typeMethodCall, 0, 8,
		callFields(":1.9", c.Path, c.Interface, c.Member, "h", 3), binary.BigEndian.AppendUint32(nil, 2))
	f.sendAndClose(t, msg, reads)
	got, fds := f.receive(t)
	if len(fds) != 1 {
		t.Fatalf("the client received %d descriptors, want 1", len(fds))
	}
	if idx := binary.BigEndian.Uint32(got[len(got)-4:]); idx != 0 {
		t.Errorf("index %d, want 0", idx)
	}
	if n := binary.BigEndian.Uint32(got[lastField(got):]); n != 1 {
		t.Errorf("UNIX_FDS %d, want 1", n)
	}
	if open(writes[0]) || open(writes[1]) {
		t.Error("a descriptor the call did not name is still open")
	}
	if !open(writes[2]) {
		t.Error("the named descriptor did not arrive")
	}
	syscall.Close(fds[0])
	if open(writes[2]) {
		t.Error("the relay kept a copy of the descriptor it passed on")
	}
}

// TestOversizedBodyRefused: a body over the bound is read and discarded,
// its descriptors closed, and the call reported; the next message passes.
func TestOversizedBodyRefused(t *testing.T) {
	f := newFakeBus(t, Config{FDCalls: []Call{installCall}, MaxBody: 1024})
	reads, writes := pipes(t, 2)
	big := make([]byte, 4+1<<20)
	binary.LittleEndian.PutUint32(big, 1<<20)
	msg := buildMsg(binary.LittleEndian, typeMethodCall, 0, 9,
		callFields(":1.9", "/io/lockd/Lock1", "io.lockd.Codes1", "SetAdminCode", "s", 2), big)
	sent := make(chan error, 1)
	go func() { // larger than the socket buffers
		err := writeMsg(f.bus, msg, reads)
		for _, fd := range reads {
			syscall.Close(fd)
		}
		sent <- err
	}()
	select {
	case r := <-f.g.Refusals():
		want := Refusal{Sender: ":1.9", Serial: 9, Method: "io.lockd.Codes1.SetAdminCode",
			Reason: "the message's body is 1048580 bytes; this service takes at most 1024"}
		if r != want {
			t.Errorf("refusal %+v, want %+v", r, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no refusal")
	}
	small := buildMsg(binary.LittleEndian, typeSignal, 0, 10,
		callFields(":1.9", "/a", "a.b", "C", "", 0), nil)
	f.sendAndClose(t, small, nil)
	if got, _ := f.receive(t); !bytes.Equal(got, small) {
		t.Errorf("next message %q, want %q", got, small)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	for i, w := range writes {
		if open(w) {
			t.Errorf("descriptor %d of the refused call still open", i)
		}
	}
}

// TestHugePathRefused: a header too large to buffer streams past; the
// refusal still names the caller.
func TestHugePathRefused(t *testing.T) {
	f := newFakeBus(t, Config{})
	path := "/" + strings.Repeat("p", 100<<10)
	msg := buildMsg(binary.LittleEndian, typeMethodCall, 0, 11,
		callFields(":1.9", path, "org.freedesktop.DBus.Properties", "Get", "", 0), nil)
	go writeMsg(f.bus, msg, nil) // larger than the socket buffers; an error shows as no refusal
	select {
	case r := <-f.g.Refusals():
		if r.Sender != ":1.9" || r.Serial != 11 || !strings.Contains(r.Reason, "header fields") {
			t.Errorf("refusal %+v", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no refusal")
	}
}

// TestBusEndsRelay: when the bus closes, the client reads EOF and Err says
// why.
func TestBusEndsRelay(t *testing.T) {
	f := newFakeBus(t, Config{})
	f.bus.Close()
	_ = f.client.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := f.client.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("client read %v, want EOF", err)
	}
	<-f.g.Done()
	if f.g.Err() == nil {
		t.Error("Err is nil after the bus closed")
	}
}

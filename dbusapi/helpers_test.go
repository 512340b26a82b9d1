package dbusapi_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/internal/dbustest"
)

func TestMain(m *testing.M) {
	dbustest.RunHelpers(map[string]dbustest.HelperFunc{
		"fdflood":   fdFlood,
		"bigcall":   bigCall,
		"callflood": callFlood,
	})
	os.Exit(m.Run())
}

// rawConn is a client connection on which the helper also writes messages
// godbus would not send (descriptors with any call, bodies nested past
// godbus's limits). They ask for no reply: the bus caps the replies a
// connection may await at 128.
type rawConn struct {
	*dbus.Conn
	sock *net.UnixConn
	next uint32
}

func dialRaw(address string) (*rawConn, error) {
	path, ok := strings.CutPrefix(address, "unix:path=")
	path, _, _ = strings.Cut(path, ",")
	if !ok {
		return nil, fmt.Errorf("helper: address %q is not unix:path=", address)
	}
	sock, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	c, err := dbus.ConnectUnix(sock)
	if err != nil {
		return nil, err
	}
	return &rawConn{Conn: c, sock: sock, next: 1 << 30}, nil
}

// send writes a method call to lockd with fds attached and UNIX_FDS set
// to their number, whatever the signature says.
func (c *rawConn) send(method string, fds []int, args ...any) error {
	return c.sendBody(method, fds, "", nil, args...)
}

// sendBody is send with, when sig is not empty, a body encoded by hand
// instead of args: what godbus's encoder refuses to write.
func (c *rawConn) sendBody(method string, fds []int, sig string, body []byte, args ...any) error {
	i := strings.LastIndex(method, ".")
	m := &dbus.Message{Type: dbus.TypeMethodCall, Flags: dbus.FlagNoReplyExpected, Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldPath:        dbus.MakeVariant(wire.ObjectPath),
		dbus.FieldInterface:   dbus.MakeVariant(method[:i]),
		dbus.FieldMember:      dbus.MakeVariant(method[i+1:]),
		dbus.FieldDestination: dbus.MakeVariant(wire.BusName),
	}, Body: args}
	if len(args) > 0 {
		m.Headers[dbus.FieldSignature] = dbus.MakeVariant(dbus.SignatureOf(args...))
	}
	if sig != "" {
		m.Headers[dbus.FieldSignature] = dbus.MakeVariant(dbus.ParseSignatureMust(sig))
	}
	if len(fds) > 0 {
		m.Headers[dbus.FieldUnixFDs] = dbus.MakeVariant(uint32(len(fds)))
	}
	var b bytes.Buffer
	if err := m.EncodeTo(&b, binary.LittleEndian); err != nil {
		return err
	}
	c.next++
	binary.LittleEndian.PutUint32(b.Bytes()[8:], c.next) // EncodeTo leaves the serial 0
	if sig != "" {
		binary.LittleEndian.PutUint32(b.Bytes()[4:], uint32(len(body)))
		b.Write(body)
	}
	var oob []byte
	if len(fds) > 0 {
		oob = syscall.UnixRights(fds...)
	}
	n, _, err := c.sock.WriteMsgUnix(b.Bytes(), oob, nil)
	if err == nil {
		_, err = c.sock.Write(b.Bytes()[n:])
	}
	return err
}

// fdFlood CALLS PER: Properties.GetAll CALLS times with PER descriptors
// each (of /dev/null), then one ordinary GetAll, which lockd answers only
// after it has read every call before it.
func fdFlood(address string, args []string) error {
	calls, _ := strconv.Atoi(args[0])
	per, _ := strconv.Atoi(args[1])
	c, err := dialRaw(address)
	if err != nil {
		return err
	}
	defer c.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	fds := make([]int, per)
	for i := range fds {
		fds[i] = int(null.Fd())
	}
	for range calls {
		if err := c.send("org.freedesktop.DBus.Properties.GetAll", fds, wire.Lock1); err != nil {
			return err
		}
	}
	var all map[string]dbus.Variant
	return c.Object(wire.BusName, wire.ObjectPath).Call("org.freedesktop.DBus.Properties.GetAll", 0, wire.Lock1).Store(&all)
}

// bigCall BYTES: Codes1.Log with a string of BYTES bytes after its two
// arguments; prints the error name lockd answers with.
func bigCall(address string, args []string) error {
	size, _ := strconv.Atoi(args[0])
	c, err := dbus.Connect(address)
	if err != nil {
		return err
	}
	defer c.Close()
	err = c.Object(wire.BusName, wire.ObjectPath).Call(wire.Codes1+".Log", 0, uint64(0), uint32(1), strings.Repeat("x", size)).Err
	var de dbus.Error
	if !errors.As(err, &de) {
		return fmt.Errorf("helper: Log with %d bytes: %v", size, err)
	}
	fmt.Println(de.Name)
	return nil
}

// callFlood CONNS CALLS: CONNS connections, each making CALLS reads
// (GetAll and Log in turn) once all are connected, which it prints as
// "flooding"; any error fails.
func callFlood(address string, args []string) error {
	conns, _ := strconv.Atoi(args[0])
	calls, _ := strconv.Atoi(args[1])
	var objs []dbus.BusObject
	for range conns {
		c, err := dbus.Connect(address)
		if err != nil {
			return err
		}
		defer c.Close()
		objs = append(objs, c.Object(wire.BusName, wire.ObjectPath))
	}
	fmt.Println("flooding")
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for _, obj := range objs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			for i := range calls {
				if i%2 == 0 {
					var all map[string]dbus.Variant
					err = obj.Call("org.freedesktop.DBus.Properties.GetAll", 0, wire.Lock1).Store(&all)
				} else {
					var log []struct {
						ID      uint64
						Details map[string]dbus.Variant
					}
					err = obj.Call(wire.Codes1+".Log", 0, uint64(0), uint32(20)).Store(&log)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

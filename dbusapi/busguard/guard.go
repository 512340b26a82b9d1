package busguard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
)

// Call names a method call whose first argument is a descriptor (type
// `h`) that the service takes: only such a call keeps one descriptor.
type Call struct {
	Path      string
	Interface string
	Member    string
	// Signature is the call's whole signature; it starts with "h".
	Signature string
}

// Refusal is a method call the relay refused unread. The service answers
// it: the caller would otherwise wait for its timeout.
type Refusal struct {
	Sender string // the caller's unique name
	Serial uint32 // the call's serial, for REPLY_SERIAL
	Method string // "interface.member" as the caller named it
	Reason string // what was too large, for a person; never the caller's data
}

// Default bounds.
const (
	// DefaultMaxBody bounds a message body. lockd's largest call is
	// Codes1.Add: a 64-byte label, a 12-digit code and seven options of
	// at most 64 bytes, well under 1 KiB; 64 KiB leaves room for any
	// option a later version adds while keeping what one call can make
	// lockd hold (the body, then godbus's decoding of it) small.
	DefaultMaxBody = 64 << 10
	// DefaultMaxFields bounds the header fields: five names of at most
	// 255 bytes, a signature and a short object path need under 2 KiB.
	DefaultMaxFields = 16 << 10
)

// Config is the relay's policy.
type Config struct {
	// FDCalls are the only calls that may pass a descriptor on.
	FDCalls []Call
	// MaxBody and MaxFields default to DefaultMaxBody and
	// DefaultMaxFields.
	MaxBody   int
	MaxFields int
	// Log defaults to slog.Default().
	Log *slog.Logger
}

// errBusClosed: the bus ended the connection between two messages (it
// stopped, or dropped lockd).
var errBusClosed = errors.New("busguard: the bus closed the connection")

// refusalQueue is how many refusals may wait for the service; beyond it,
// a flood's further refusals go unanswered (their callers time out).
const refusalQueue = 64

// bufSize is each inbox's buffer: a refused message streams through it, a
// relayed one is copied out of it.
const bufSize = 64 << 10

// Guard is one guarded connection to a bus. Hand Client to
// dbus.ConnectUnix, which then owns it; closing the godbus connection ends
// the relay, and so does Close.
type Guard struct {
	bus, relay, client *net.UnixConn
	refusals           chan Refusal
	done               chan struct{}
	err                error
	closeOnce          sync.Once
	log                *slog.Logger
}

// Dial connects to the bus at a D-Bus address (unix:path= or
// unix:abstract=) and starts the relay. The bus sees lockd's own
// credentials: the socket it accepted is lockd's.
func Dial(ctx context.Context, address string, cfg Config) (*Guard, error) {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxFields <= 0 {
		cfg.MaxFields = DefaultMaxFields
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	for _, c := range cfg.FDCalls {
		if !strings.HasPrefix(c.Signature, "h") {
			return nil, fmt.Errorf("busguard: %s.%s: a descriptor call's first argument must be h, not %q", c.Interface, c.Member, c.Signature)
		}
	}
	socks, err := unixSockets(address)
	if err != nil {
		return nil, err
	}
	var bus net.Conn
	var d net.Dialer
	for _, s := range socks {
		if bus, err = d.DialContext(ctx, "unix", s); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("busguard: connect to %s: %w", address, err)
	}
	relay, client, err := socketPair()
	if err != nil {
		bus.Close()
		return nil, err
	}
	g := &Guard{bus: bus.(*net.UnixConn), relay: relay, client: client, log: cfg.Log,
		refusals: make(chan Refusal, refusalQueue), done: make(chan struct{})}
	go g.run(cfg)
	return g, nil
}

// socketPair returns two connected stream sockets.
func socketPair() (*net.UnixConn, *net.UnixConn, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("busguard: socketpair: %w", err)
	}
	var conns [2]*net.UnixConn
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "busguard")
		c, err := net.FileConn(f) // a duplicate
		f.Close()
		if err != nil {
			if i == 1 {
				conns[0].Close()
			} else {
				syscall.Close(fds[1])
			}
			return nil, nil, fmt.Errorf("busguard: socketpair: %w", err)
		}
		conns[i] = c.(*net.UnixConn)
	}
	return conns[0], conns[1], nil
}

// Client is godbus's end of the relay.
func (g *Guard) Client() *net.UnixConn { return g.client }

// Refusals delivers the method calls refused unread; it is closed when
// the relay ends.
func (g *Guard) Refusals() <-chan Refusal { return g.refusals }

// Done is closed when the relay has ended; Err then says why.
func (g *Guard) Done() <-chan struct{} { return g.done }

// Err is why the relay ended (nil while it runs).
func (g *Guard) Err() error {
	select {
	case <-g.done:
		return g.err
	default:
		return nil
	}
}

// Close ends the relay and closes its sockets, Client included (closing
// it twice is harmless once godbus owns it).
func (g *Guard) Close() error {
	g.closeSockets()
	<-g.done
	g.client.Close()
	return nil
}

// closeSockets closes the relay's own sockets: Client is godbus's, which
// then reads EOF as it would from a bus that went away.
func (g *Guard) closeSockets() {
	g.closeOnce.Do(func() {
		g.bus.Close()
		g.relay.Close()
	})
}

// run relays until either side ends, then closes everything.
func (g *Guard) run(cfg Config) {
	defer close(g.done)
	defer g.closeSockets()
	fromClient := newInbox(readMsg(g.relay), bufSize)
	fromBus := newInbox(readMsg(g.bus), bufSize)
	defer fromClient.closeFDs()
	defer fromBus.closeFDs()
	err := passAuth(fromClient, fromBus,
		func(b []byte) error { return writeMsg(g.bus, b, nil) },
		func(b []byte) error { return writeMsg(g.relay, b, nil) })
	if err != nil {
		close(g.refusals)
		g.err = err
		return
	}
	fromClient.closeFDs() // none belong to the exchange
	down := &downstream{in: fromBus, fdCalls: cfg.FDCalls, maxBody: cfg.MaxBody, maxFields: cfg.MaxFields,
		out: func(msg []byte, fd int) error {
			if fd < 0 {
				return writeMsg(g.relay, msg, nil)
			}
			return writeMsg(g.relay, msg, []int{fd})
		},
		refuse: g.queueRefusal}
	upErr := make(chan error, 1)
	go func() {
		err := pumpUp(fromClient, g.bus)
		g.closeSockets() // ends the read below
		upErr <- err
	}()
	for err == nil {
		err = down.next()
	}
	close(g.refusals)
	g.closeSockets()
	if e := <-upErr; errors.Is(err, net.ErrClosed) {
		err = e // the other side ended first: godbus closed, or the bus refused a write
	}
	if errors.Is(err, io.EOF) {
		err = errBusClosed
	}
	g.err = err
	g.log.Debug("busguard: relay ended", "err", err, "descriptors_closed", down.closed)
}

// queueRefusal hands r to the service without blocking the relay.
func (g *Guard) queueRefusal(r Refusal) {
	select {
	case g.refusals <- r:
	default:
		g.log.Warn("busguard: refusals pile up; not answering one", "sender", r.Sender, "method", r.Method)
	}
}

func readMsg(c *net.UnixConn) readFunc {
	return func(p, oob []byte) (int, int, int, error) {
		n, oobn, flags, _, err := c.ReadMsgUnix(p, oob)
		return n, oobn, flags, err
	}
}

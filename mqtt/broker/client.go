// Package broker is lockd-mqtt's MQTT connection: MQTT 5 over TCP or TLS
// with the broker credentials, a retained "offline" will, a clean
// session (nothing queued from before is ever delivered), a bound on the
// size of what the broker may send, and reconnects with backoff and
// jitter when the broker is down or restarts. It hands every message to
// its consumer with the retain flag intact; what a message may do is
// package bridge's decision.
package broker

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"

	"lockd.dev/lockd/internal/backoff"
)

// MaxPacket is the largest MQTT packet lockd-mqtt accepts from the broker
// (announced in CONNECT as Maximum Packet Size, and enforced by
// sizeGuard). lockd-mqtt only ever receives commands of a few dozen
// bytes.
const MaxPacket = 4096

// dialTimeout bounds the TCP connect, the TLS handshake and CONNACK.
const dialTimeout = 10 * time.Second

// Config is one broker connection.
type Config struct {
	URL       *url.URL    // mqtt://HOST:PORT or mqtts://HOST:PORT
	TLS       *tls.Config // used with mqtts; ServerName is filled in from URL
	ClientID  string
	Username  string
	Password  string
	KeepAlive uint16 // seconds
	// WillTopic gets WillPayload, retained, when lockd-mqtt vanishes
	// without a goodbye, and from Run itself when it stops.
	WillTopic, WillPayload string
	// Subscribe are the topics subscribed after every connect.
	Subscribe []string
}

// Message is one PUBLISH from the broker.
type Message struct {
	Topic    string
	Payload  []byte
	Retained bool // the broker kept it from before this subscription
}

// Event is what Run reports: a connection change (Message nil) or a
// message.
type Event struct {
	Up      bool  // with Message nil: connected (true) or lost (false)
	Err     error // why the connection was lost
	Message *Message
}

// Client keeps one connection to the broker. Publish uses the current
// one.
type Client struct {
	cfg    Config
	log    *slog.Logger
	events chan Event

	mu  sync.Mutex
	cur *paho.Client // nil while disconnected
}

// New returns a Client; nothing connects before Run.
func New(cfg Config, log *slog.Logger) *Client {
	return &Client{cfg: cfg, log: log, events: make(chan Event, 64)}
}

// Events are the connection changes and messages, in order. A consumer
// that falls 64 behind loses messages (each loss logged), never blocks
// the connection.
func (c *Client) Events() <-chan Event { return c.events }

// ErrNotConnected: Publish while there is no connection.
var ErrNotConnected = errors.New("broker: not connected")

// Publish sends one message at QoS 1 and waits for the broker's
// acknowledgement (or ctx).
func (c *Client) Publish(ctx context.Context, topic string, payload []byte, retain bool) error {
	c.mu.Lock()
	pc := c.cur
	c.mu.Unlock()
	if pc == nil {
		return ErrNotConnected
	}
	if _, err := pc.Publish(ctx, &paho.Publish{Topic: topic, Payload: payload, Retain: retain, QoS: 1}); err != nil {
		return fmt.Errorf("broker: publish %s: %w", topic, err)
	}
	return nil
}

// Run connects and stays connected until ctx ends: a broker that is down
// or drops the connection is retried with backoff (0.5 s doubling to
// 30 s, jittered). On the way out it publishes the will's payload itself
// (a clean DISCONNECT discards the will) and disconnects.
func (c *Client) Run(ctx context.Context) {
	b := backoff.New(backoff.Min, backoff.Max)
	for {
		pc, err := c.connect(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			d := b.Next()
			c.log.Warn("broker: cannot connect; retrying", "broker", c.cfg.URL.Redacted(), "err", err, "retry_in", d.Round(time.Millisecond))
			if !sleep(ctx, d) {
				return
			}
			continue
		}
		b.Reset()
		c.log.Info("broker: connected", "broker", c.cfg.URL.Redacted(), "client_id", c.cfg.ClientID)
		if !c.emit(ctx, Event{Up: true}) {
			c.goodbye(pc)
			return
		}
		select {
		case <-pc.Done():
			c.setCurrent(nil)
			c.log.Warn("broker: connection lost", "broker", c.cfg.URL.Redacted())
			if !c.emit(ctx, Event{Up: false, Err: errors.New("broker: connection lost")}) {
				return
			}
		case <-ctx.Done():
			c.goodbye(pc)
			return
		}
	}
}

// connect dials, logs in and subscribes.
func (c *Client) connect(ctx context.Context) (*paho.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.cfg.URL.Host)
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	if c.cfg.URL.Scheme == "mqtts" {
		tc := c.cfg.TLS.Clone()
		if tc == nil {
			tc = &tls.Config{}
		}
		tc.ServerName = c.cfg.URL.Hostname()
		tc.MinVersion = max(tc.MinVersion, tls.VersionTLS12)
		t := tls.Client(conn, tc)
		if err := t.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("broker: TLS: %w", err)
		}
		conn = t
	}
	guarded := &sizeGuard{Conn: conn, max: MaxPacket}
	pc := paho.NewClient(paho.ClientConfig{
		Conn:              packets.NewThreadSafeConn(guarded),
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){c.received},
		OnClientError:     func(err error) { c.log.Debug("broker: client error", "err", err) },
		OnServerDisconnect: func(d *paho.Disconnect) {
			c.log.Warn("broker: the broker disconnected us", "reason_code", d.ReasonCode)
		},
	})
	maxPacket, expiry := uint32(MaxPacket), uint32(0)
	ca, err := pc.Connect(ctx, &paho.Connect{
		ClientID: c.cfg.ClientID, KeepAlive: c.cfg.KeepAlive,
		// A clean session that ends with the connection: nothing sent
		// while lockd-mqtt was away is queued for it, so no old command
		// is ever delivered late.
		CleanStart: true,
		Username:   c.cfg.Username, UsernameFlag: c.cfg.Username != "",
		Password: []byte(c.cfg.Password), PasswordFlag: c.cfg.Password != "",
		Properties:  &paho.ConnectProperties{MaximumPacketSize: &maxPacket, SessionExpiryInterval: &expiry},
		WillMessage: &paho.WillMessage{Topic: c.cfg.WillTopic, Payload: []byte(c.cfg.WillPayload), Retain: true, QoS: 1},
	})
	if err != nil {
		conn.Close()
		if ca != nil {
			return nil, fmt.Errorf("broker: the broker refused the login: %s (reason code %d)", connackReason(ca.ReasonCode), ca.ReasonCode)
		}
		return nil, fmt.Errorf("broker: connect: %w", err)
	}
	c.setCurrent(pc)
	if len(c.cfg.Subscribe) > 0 {
		s := &paho.Subscribe{}
		for _, topic := range c.cfg.Subscribe {
			// RetainHandling 2: the broker sends no retained message at
			// subscribe time. bridge ignores a retained one anyway.
			s.Subscriptions = append(s.Subscriptions, paho.SubscribeOptions{Topic: topic, QoS: 0, RetainHandling: 2, NoLocal: true})
		}
		sa, err := pc.Subscribe(ctx, s)
		if err == nil && len(sa.Reasons) > 0 && sa.Reasons[0] >= 0x80 {
			err = fmt.Errorf("reason code %#x (the broker's ACL may not let this user read it)", sa.Reasons[0])
		}
		if err != nil {
			c.setCurrent(nil)
			_ = pc.Disconnect(&paho.Disconnect{})
			return nil, fmt.Errorf("broker: subscribe %v: %w", c.cfg.Subscribe, err)
		}
	}
	return pc, nil
}

// received is paho's callback for every PUBLISH.
func (c *Client) received(p paho.PublishReceived) (bool, error) {
	m := &Message{Topic: p.Packet.Topic, Payload: p.Packet.Payload, Retained: p.Packet.Retain}
	select {
	case c.events <- Event{Message: m}:
	default:
		c.log.Warn("broker: dropped a message: lockd-mqtt is behind", "topic", m.Topic)
	}
	return true, nil
}

// emit delivers a connection change (never dropped, unlike messages)
// unless ctx ends first.
func (c *Client) emit(ctx context.Context, e Event) bool {
	select {
	case c.events <- e:
		return true
	case <-ctx.Done():
		return false
	}
}

// goodbye publishes the will's payload and disconnects cleanly.
func (c *Client) goodbye(pc *paho.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := pc.Publish(ctx, &paho.Publish{Topic: c.cfg.WillTopic, Payload: []byte(c.cfg.WillPayload), Retain: true, QoS: 1}); err != nil {
		c.log.Warn("broker: could not say goodbye", "err", err)
	}
	c.setCurrent(nil)
	_ = pc.Disconnect(&paho.Disconnect{ReasonCode: 0})
}

func (c *Client) setCurrent(pc *paho.Client) {
	c.mu.Lock()
	c.cur = pc
	c.mu.Unlock()
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// connackReason names MQTT 5's CONNACK reason codes a person can act on.
func connackReason(code byte) string {
	switch code {
	case 0x85:
		return "client id not valid"
	case 0x86:
		return "bad user name or password"
	case 0x87:
		return "not authorized (check the credentials file and the broker's users)"
	case 0x88:
		return "server unavailable"
	case 0x89:
		return "server busy"
	case 0x8a:
		return "banned"
	case 0x95:
		return "packet too large"
	case 0x97:
		return "quota exceeded"
	}
	return "refused"
}

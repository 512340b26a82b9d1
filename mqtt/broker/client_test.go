package broker_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"lockd.dev/lockd/mqtt/broker"
	"lockd.dev/lockd/mqtt/mqtttest"
)

const acl = `user lock
topic write lockd/#
topic read lockd/n/lock/set
user ha
topic read lockd/#
topic write lockd/n/lock/set
user nosy
topic read lockd/#
`

var users = map[string]string{"lock": "lock-pw", "ha": "ha-pw", "nosy": "nosy-pw"}

func client(t *testing.T, b *mqtttest.Broker, user, pw string) (*broker.Client, context.CancelFunc) {
	return clientLog(t, b, user, pw, os.Stderr)
}

func clientLog(t *testing.T, b *mqtttest.Broker, user, pw string, log io.Writer) (*broker.Client, context.CancelFunc) {
	t.Helper()
	pem, err := os.ReadFile(b.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	u, _ := url.Parse(b.URL())
	c := broker.New(broker.Config{URL: u, TLS: &tls.Config{RootCAs: pool}, ClientID: "test-" + user,
		Username: user, Password: pw, KeepAlive: 30, WillTopic: "lockd/n/availability", WillPayload: "offline",
		Subscribe: []string{"lockd/n/lock/set"}}, slog.New(slog.NewTextHandler(log, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return c, cancel
}

// next returns the next event, within a ceiling.
func next(t *testing.T, c *broker.Client) broker.Event {
	t.Helper()
	select {
	case e := <-c.Events():
		return e
	case <-time.After(20 * time.Second):
		t.Fatal("no event from the broker client")
		return broker.Event{}
	}
}

func wantUp(t *testing.T, c *broker.Client, up bool) {
	t.Helper()
	for {
		e := next(t, c)
		if e.Message == nil {
			if e.Up != up {
				t.Fatalf("connection event up=%v, want %v (%v)", e.Up, up, e.Err)
			}
			return
		}
	}
}

// TestAgainstMosquitto: TLS and login, a message through the ACL, the
// retain flag, a message over the size limit dropped by the broker, the
// will, a broker restart and a broker down at start.
func TestAgainstMosquitto(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{Users: users, ACL: acl})
	watch := b.Sub(t, "ha", "ha-pw", "lockd/#")
	// A retained command from before lockd-mqtt connects.
	b.MustPub(t, "ha", "ha-pw", "lockd/n/lock/set", "UNLOCK", true)
	c, stop := client(t, b, "lock", "lock-pw")
	wantUp(t, c, true)
	if err := c.Publish(context.Background(), "lockd/n/availability", []byte("online"), true); err != nil {
		t.Fatal(err)
	}
	watch.Wait(t, 0, "lockd/n/availability", mqtttest.Is("online"))

	// RetainHandling 2: the retained UNLOCK is not delivered at all.
	b.MustPub(t, "ha", "ha-pw", "lockd/n/lock/set", "LOCK", false)
	e := next(t, c)
	if e.Message == nil || string(e.Message.Payload) != "LOCK" || e.Message.Retained {
		t.Fatalf("first message %+v, want the live LOCK (the retained UNLOCK must not come)", e.Message)
	}
	// Larger than MaxPacket: mosquitto does not send it to this client.
	big := strings.Repeat("U", broker.MaxPacket+1)
	b.MustPub(t, "ha", "ha-pw", "lockd/n/lock/set", big, false)
	b.MustPub(t, "nosy", "nosy-pw", "lockd/n/lock/set", "UNLOCK", false) // ACL: nosy may not write
	b.MustPub(t, "ha", "ha-pw", "lockd/n/lock/set", "after", false)
	if e := next(t, c); e.Message == nil || string(e.Message.Payload) != "after" {
		t.Fatalf("after the oversized and the unauthorised message: %+v, want only \"after\"", e.Message)
	}

	// A broker restart: lost, then up again (the backoff's first step).
	b.Restart(t)
	wantUp(t, c, false)
	wantUp(t, c, true)
	if err := c.Publish(context.Background(), "lockd/n/availability", []byte("online"), true); err != nil {
		t.Fatal(err)
	}

	// A clean stop publishes "offline" itself.
	from := len(watch.Lines())
	stop()
	watch.Wait(t, from, "lockd/n/availability", mqtttest.Is("offline"))
	if !strings.Contains(b.Logs(), "test-lock") {
		t.Errorf("mosquitto never saw client test-lock:\n%s", b.Logs())
	}
}

func TestBrokerDownAtStart(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{Users: users, ACL: acl})
	b.Stop(t)
	c, _ := client(t, b, "lock", "lock-pw")
	b.Start(t)
	wantUp(t, c, true)
}

func TestWrongPassword(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{Users: users, ACL: acl})
	refused := make(chan string, 16)
	c, stop := clientLog(t, b, "lock", "wrong", lineWriter(refused))
	select {
	case l := <-refused:
		if !strings.Contains(l, "cannot connect") || !strings.Contains(l, "not authorized") {
			t.Errorf("log line %q, want the broker's refusal", l)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no log line about the refused login")
	}
	stop()
	select {
	case e := <-c.Events():
		t.Fatalf("an event with a wrong password: %+v", e)
	default:
	}
}

// lineWriter sends each write (slog writes one line at a time) to ch.
type lineWriter chan string

func (w lineWriter) Write(p []byte) (int, error) {
	select {
	case w <- string(p):
	default:
	}
	return len(p), nil
}

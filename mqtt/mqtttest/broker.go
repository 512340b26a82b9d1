// Package mqtttest runs Debian's mosquitto for tests: on 127.0.0.1 and a
// free port, TLS only (a CA made for the test), users from
// mosquitto_passwd, an ACL file, no persistence, so a restart loses every
// retained message as a crashed broker would. The clients are Debian's
// mosquitto_sub and mosquitto_pub (client.go). Without the tools a test
// skips, naming the package; under CI=true it fails.
package mqtttest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"lockd.dev/lockd/internal/testtool"
)

// Options configure a broker.
type Options struct {
	// Users are user -> password; mosquitto refuses anyone else.
	Users map[string]string
	// ACL is mosquitto's acl_file: "user NAME" then "topic read|write|readwrite TOPIC" lines.
	ACL string
}

// Broker is one mosquitto.
type Broker struct {
	Port   int
	CAFile string
	Dir    string

	bin  string
	conf string
	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	logs strings.Builder
}

// startTimeout bounds mosquitto's start: it says it is running within
// milliseconds; this is the ceiling of a machine under load.
const startTimeout = 15 * time.Second

// Start starts a broker, stopped when the test ends.
func Start(t testing.TB, o Options) *Broker {
	t.Helper()
	b := &Broker{bin: testtool.Need(t, "mosquitto", "mosquitto"), Dir: t.TempDir()}
	passwd := testtool.Need(t, "mosquitto_passwd", "mosquitto")
	b.CAFile = writeCerts(t, b.Dir)
	pwFile := filepath.Join(b.Dir, "passwd")
	if err := os.WriteFile(pwFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for u, p := range o.Users {
		if out, err := exec.Command(passwd, "-b", pwFile, u, p).CombinedOutput(); err != nil {
			t.Fatalf("mqtttest: mosquitto_passwd: %v\n%s", err, out)
		}
	}
	aclFile := filepath.Join(b.Dir, "acl")
	if err := os.WriteFile(aclFile, []byte(o.ACL), 0o600); err != nil {
		t.Fatal(err)
	}
	b.Port = freePort(t)
	b.conf = filepath.Join(b.Dir, "mosquitto.conf")
	conf := fmt.Sprintf(`# mqtttest: a broker for one test
user root
per_listener_settings false
allow_anonymous false
password_file %s
acl_file %s
persistence false
log_dest stderr
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
listener %d 127.0.0.1
cafile %s
certfile %s
keyfile %s
tls_version tlsv1.2
`, pwFile, aclFile, b.Port, b.CAFile, filepath.Join(b.Dir, "server.pem"), filepath.Join(b.Dir, "server.key"))
	if err := os.WriteFile(b.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	b.Start(t)
	t.Cleanup(func() {
		b.Stop(t)
		if t.Failed() {
			t.Logf("mosquitto's log:\n%s", b.Logs())
		}
	})
	return b
}

// Start starts mosquitto (again) on the same port and files, and waits
// until it listens.
func (b *Broker) Start(t testing.TB) {
	t.Helper()
	b.cmd = exec.Command(b.bin, "-c", b.conf)
	stderr, err := b.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("mqtttest: start mosquitto: %v", err)
	}
	running := make(chan struct{})
	b.done = make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			b.mu.Lock()
			b.logs.WriteString(sc.Text() + "\n")
			b.mu.Unlock()
			if strings.HasSuffix(sc.Text(), " running") {
				once.Do(func() { close(running) })
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		_ = b.cmd.Wait()
		close(b.done)
	}()
	select {
	case <-running:
	case <-b.done:
		t.Fatalf("mqtttest: mosquitto exited at start:\n%s", b.Logs())
	case <-time.After(startTimeout):
		t.Fatalf("mqtttest: mosquitto did not start within %v:\n%s", startTimeout, b.Logs())
	}
}

// Stop stops mosquitto (SIGTERM) and waits for it. The signal is sent
// again every 100 ms: mosquitto 2.0.11 only notes it in a flag, and one
// that lands just before its loop starts waiting is seen only when the
// wait ends by itself (seen here: 10 s).
func (b *Broker) Stop(t testing.TB) {
	if b.cmd == nil || b.cmd.Process == nil {
		return
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case <-b.done:
			return
		default:
		}
		_ = b.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-b.done:
			return
		case <-tick.C:
		case <-deadline:
			_ = b.cmd.Process.Kill()
			<-b.done
			return
		}
	}
}

// Restart stops and starts mosquitto: every connection drops and every
// retained message is gone (no persistence).
func (b *Broker) Restart(t testing.TB) {
	t.Helper()
	b.Stop(t)
	b.Start(t)
}

// URL is the broker for lockd-mqtt's mqtt.broker.
func (b *Broker) URL() string { return fmt.Sprintf("mqtts://127.0.0.1:%d", b.Port) }

// Logs returns what mosquitto logged so far.
func (b *Broker) Logs() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.logs.String()
}

// freePort returns a port nothing listens on now (the kernel's choice).
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

package mqtttest

import (
	"bufio"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"lockd.dev/lockd/internal/testtool"
)

// waitTimeout bounds a wait for a message: a ceiling, not a measurement.
const waitTimeout = 15 * time.Second

// clientArgs are the connection arguments of mosquitto_sub and _pub.
func (b *Broker) clientArgs(user, password string) []string {
	return []string{"-h", "127.0.0.1", "-p", strconv.Itoa(b.Port), "--cafile", b.CAFile, "-u", user, "-P", password, "-V", "mqttv5"}
}

// Pub publishes one message with mosquitto_pub (QoS 1) and returns its
// error and output.
func (b *Broker) Pub(t testing.TB, user, password, topic, payload string, retain bool) (string, error) {
	t.Helper()
	// -s: the payload from stdin, so it may be binary or large.
	args := append(b.clientArgs(user, password), "-q", "1", "-t", topic, "-s")
	if retain {
		args = append(args, "-r")
	}
	cmd := exec.Command(testtool.Need(t, "mosquitto_pub", "mosquitto-clients"), args...)
	cmd.Stdin = strings.NewReader(payload)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// MustPub is Pub that fails the test on an error.
func (b *Broker) MustPub(t testing.TB, user, password, topic, payload string, retain bool) {
	t.Helper()
	if out, err := b.Pub(t, user, password, topic, payload, retain); err != nil {
		t.Fatalf("mosquitto_pub %s: %v\n%s", topic, err, out)
	}
}

// Line is one message mosquitto_sub printed.
type Line struct {
	Retained bool
	Topic    string
	Payload  string
}

// Sub is a running mosquitto_sub.
type Sub struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []Line
	more  chan struct{}
	done  chan struct{}
}

// Sub subscribes to topics with mosquitto_sub until the test ends. Each
// message is one line: the retain flag, the topic, the payload.
func (b *Broker) Sub(t testing.TB, user, password string, topics ...string) *Sub {
	t.Helper()
	args := append(b.clientArgs(user, password), "-F", "%r %t %p")
	for _, tp := range topics {
		args = append(args, "-t", tp)
	}
	s := &Sub{cmd: exec.Command(testtool.Need(t, "mosquitto_sub", "mosquitto-clients"), args...),
		more: make(chan struct{}, 1), done: make(chan struct{})}
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("mqtttest: start mosquitto_sub: %v", err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			f := strings.SplitN(sc.Text(), " ", 3)
			if len(f) < 2 {
				continue
			}
			l := Line{Retained: f[0] == "1", Topic: f[1]}
			if len(f) == 3 {
				l.Payload = f[2]
			}
			s.mu.Lock()
			s.lines = append(s.lines, l)
			s.mu.Unlock()
			select {
			case s.more <- struct{}{}:
			default:
			}
		}
		_ = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.done
	})
	return s
}

// Lines returns the messages so far.
func (s *Sub) Lines() []Line {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Line(nil), s.lines...)
}

// Wait waits for a message on topic whose payload satisfies ok (any
// payload when ok is nil), starting after the first from messages; it
// returns the message and the count of messages seen.
func (s *Sub) Wait(t testing.TB, from int, topic string, ok func(string) bool) (Line, int) {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		lines := s.Lines()
		for i := from; i < len(lines); i++ {
			if lines[i].Topic == topic && (ok == nil || ok(lines[i].Payload)) {
				return lines[i], i + 1
			}
		}
		select {
		case <-s.more:
		case <-s.done:
			t.Fatalf("mosquitto_sub ended while waiting for %s", topic)
		case <-deadline:
			t.Fatalf("no message on %s within %v; got:\n%v", topic, waitTimeout, lines[from:])
		}
	}
}

// Is returns a payload matcher for exactly p.
func Is(p string) func(string) bool { return func(s string) bool { return s == p } }

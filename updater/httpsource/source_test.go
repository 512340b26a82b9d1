package httpsource

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"lockd.dev/lockd/internal/faultserve"
)

// waits is a clock whose waits end at once and are recorded: the test
// sees the backoff without spending it.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) Now() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }
func (w *waits) After(d time.Duration) <-chan time.Time {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- w.Now()
	return ch
}

func serve(t *testing.T, size int, f faultserve.Faults) ([]byte, *faultserve.File, string) {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	h := faultserve.New(data, `"v1"`, f)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return data, h, srv.URL + "/lockd-2.0.0.bundle"
}

// readAll reads src in order, in pieces of n bytes, as bundle.Open and
// the chunk reader do.
func readAll(src *Source, n int) ([]byte, error) {
	var out []byte
	buf := make([]byte, n)
	for off := int64(0); off < src.Size(); {
		m, err := src.ReadAt(buf, off)
		out = append(out, buf[:m]...)
		off += int64(m)
		if err == io.EOF && off == src.Size() {
			break
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func open(t *testing.T, url string, c *Config) *Source {
	t.Helper()
	if c.Clock == nil {
		c.Clock = &waits{}
	}
	s, err := Open(context.Background(), url, *c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestResumesWhereItStopped: three connections cut mid-body, a stalled
// one, sporadic 503s: the download resumes each time at the byte it
// needs, and the server sends no byte twice.
func TestResumesWhereItStopped(t *testing.T) {
	data, h, url := serve(t, 1<<20, faultserve.Faults{CutAt: []int64{100_000, 300_001, 700_000}, StallAt: 500_000, Error5xxEvery: 4})
	s := open(t, url, &Config{Stall: 50 * time.Millisecond})
	got, err := readAll(s, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("the bytes differ")
	}
	st, hs := s.Stats(), h.Stats()
	t.Logf("client %+v, server %+v", st, hs)
	if hs.Sent != hs.Unique {
		t.Fatalf("the server sent %d bytes twice", hs.Sent-hs.Unique)
	}
	if st.Resumes < 4 {
		t.Fatalf("%d resumes, want one for each cut and the stall", st.Resumes)
	}
}

// TestReadsElsewhere: a read past the open response's position is served
// by skipping when near, by a new Range request when far.
func TestReadsElsewhere(t *testing.T) {
	data, _, url := serve(t, 1<<20, faultserve.Faults{})
	s := open(t, url, &Config{})
	buf := make([]byte, 1000)
	for _, off := range []int64{0, 10_000, 900_000, 5} {
		if _, err := s.ReadAt(buf, off); err != nil || !bytes.Equal(buf, data[off:off+1000]) {
			t.Fatalf("read at %d: %v", off, err)
		}
	}
	if n, err := s.ReadAt(buf, 1<<20-10); n != 10 || err != io.EOF {
		t.Fatalf("read over the end: %d, %v", n, err)
	}
	if st := s.Stats(); st.Requests != 4 || st.Resumes != 0 || st.Skipped != 9_000 {
		t.Fatalf("stats %+v; want a skip to 10000 and new requests at 900000, 5 and the end", st)
	}
}

// TestRetryAfter: two 429s; the waits are the server's 30 s, not the
// backoff's second.
func TestRetryAfter(t *testing.T) {
	_, _, url := serve(t, 1000, faultserve.Faults{TooMany: 2, RetryAfter: 30})
	w := &waits{}
	open(t, url, &Config{Clock: w})
	if len(w.d) != 2 || w.d[0] < 30*time.Second || w.d[1] < 30*time.Second {
		t.Fatalf("waits %v, want two of at least 30 s", w.d)
	}
}

// TestRefusals: what ends a download at once, without a loop.
func TestRefusals(t *testing.T) {
	for _, c := range []struct {
		name   string
		faults faultserve.Faults
		change func(*faultserve.File)
		want   string
	}{
		{"404 on the resumed range", faultserve.Faults{CutAt: []int64{200_000}, NotFoundOnResume: true}, nil, "gone from the server"},
		{"a server without Range", faultserve.Faults{CutAt: []int64{200_000}, NoRanges: true}, nil, "not starting over"},
		{"the file changed", faultserve.Faults{CutAt: []int64{200_000}}, func(f *faultserve.File) { f.ETag = `"v2"` }, "not starting over"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, h, url := serve(t, 1<<20, c.faults)
			s := open(t, url, &Config{})
			if c.change != nil {
				c.change(h)
			}
			_, err := readAll(s, 64<<10)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "httpsource: ") {
				t.Fatalf("got %v, want %q", err, c.want)
			}
			if n := h.Stats().Requests; n != 2 {
				t.Fatalf("%d requests; the refusal must not loop", n)
			}
		})
	}
}

// TestGivesUp: a server that stays down ends the download after
// MaxRetries failures in a row, having waited the growing backoff.
func TestGivesUp(t *testing.T) {
	_, h, url := serve(t, 1<<20, faultserve.Faults{CutAt: []int64{100_000}})
	w := &waits{}
	s := open(t, url, &Config{Clock: w, MaxRetries: 5})
	h.SetFaults(faultserve.Faults{Down: true})
	_, err := readAll(s, 64<<10)
	if err == nil || !strings.Contains(err.Error(), "giving up after 6 failures") {
		t.Fatalf("got %v", err)
	}
	if len(w.d) != 5 || w.d[4] < w.d[0]*4 {
		t.Fatalf("waits %v, want 5 growing ones", w.d)
	}
}

// TestClosedOrCancelled: reads after Close or a cancelled context fail
// at once.
func TestClosedOrCancelled(t *testing.T) {
	_, _, url := serve(t, 1<<20, faultserve.Faults{})
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Open(ctx, url, Config{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := s.ReadAt(make([]byte, 10), 500); !errors.Is(err, context.Canceled) {
		t.Fatalf("read after cancel: %v", err)
	}
	s.Close()
	if _, err := Open(context.Background(), "ftp://example.invalid/x", Config{}); err == nil {
		t.Fatal("an ftp URL was accepted")
	}
}

package httpsource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"lockd.dev/lockd/internal/retry"
)

// Config tunes a download; the zero value of each field is its default.
type Config struct {
	// Client makes the requests (internal/tlsclient); nil is a plain
	// http.Client, for tests.
	Client *http.Client
	// Header goes with every request (the fleet server's token).
	Header http.Header
	// Clock is what backoff waits on; nil is the real one.
	Clock retry.Clock
	// Backoff spaces retries (default 1 s doubling to 60 s, jittered).
	Backoff retry.Backoff
	// MaxRetries is how many failures in a row, without a byte of
	// progress between them, end the download (default 8).
	MaxRetries int
	// Stall is how long a response may send nothing before it is cut
	// and the download resumed (default 60 s).
	Stall time.Duration
	// MaxRetryAfter caps the wait a server asks for (default 10 min).
	MaxRetryAfter time.Duration
	// MaxSize refuses larger bundles before a byte is read (default
	// 8 GiB: the slots bound the image far below).
	MaxSize int64
	Log     *slog.Logger
}

func (c *Config) defaults() {
	if c.Client == nil {
		c.Client = &http.Client{}
	}
	if c.Clock == nil {
		c.Clock = retry.Real{}
	}
	if c.Backoff.Base == 0 {
		c.Backoff = retry.Backoff{Base: time.Second, Max: time.Minute, Rand: c.Backoff.Rand}
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = 8
	}
	if c.Stall == 0 {
		c.Stall = time.Minute
	}
	if c.MaxRetryAfter == 0 {
		c.MaxRetryAfter = 10 * time.Minute
	}
	if c.MaxSize == 0 {
		c.MaxSize = 8 << 30
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
}

// Requests ask for a window of the bundle, from minWindow doubling to
// maxWindow while the reads go on in order, back to minWindow after a
// read elsewhere.
const (
	minWindow = 256 << 10
	maxWindow = 8 << 20
)

// skipMax is how far ahead of the open response a read may start and
// still be served from it, the bytes between read and dropped: cheaper
// than a new request (a round trip, a TLS handshake).
const skipMax = 64 << 10

// Stats counts what a download cost.
type Stats struct {
	// Requests made, and of them Resumes (requests from an offset after a
	// failure, not a read elsewhere).
	Requests, Resumes int
	// Received is every body byte read, Skipped those read past to reach
	// a later offset.
	Received, Skipped int64
}

// Source is a bundle on an HTTP(S) server; see the package comment.
type Source struct {
	cfg       Config
	url       string
	ctx       context.Context
	cancel    context.CancelFunc
	size      int64
	validator string // ETag or Last-Modified, sent back as If-Range

	mu       sync.Mutex
	body     io.ReadCloser
	reqStop  context.CancelFunc
	pos      int64 // bundle offset of body's next byte
	end      int64 // where body's bytes end
	window   int64 // the size of the next request's range
	failures int   // in a row, without progress
	stats    Stats
}

// Open starts the download of rawURL (http or https) and learns its
// size. The download lives until ctx ends or Close.
func Open(ctx context.Context, rawURL string, cfg Config) (*Source, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("httpsource: %q is not an http:// or https:// URL", Redact(rawURL))
	}
	cfg.defaults()
	ctx, cancel := context.WithCancel(ctx)
	s := &Source{cfg: cfg, url: u.String(), ctx: ctx, cancel: cancel, size: -1, window: minWindow}
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		err := s.connect(0, false)
		if err == nil {
			return s, nil
		}
		if err = s.pause(err); err != nil {
			cancel()
			return nil, err
		}
	}
}

// Size returns the bundle's length.
func (s *Source) Size() int64 { return s.size }

// Remote marks the Source as a download (see updater.Source).
func (s *Source) Remote() bool { return true }

// Stats returns what the download cost so far.
func (s *Source) Stats() Stats { s.mu.Lock(); defer s.mu.Unlock(); return s.stats }

// Close ends the download; reads after it fail.
func (s *Source) Close() error {
	s.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drop()
	return nil
}

// ReadAt reads len(p) bytes at off, resuming the download as often as it
// must; it returns fewer only with an error (io.EOF at the end).
func (s *Source) ReadAt(p []byte, off int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if off < 0 {
		return 0, errors.New("httpsource: negative offset")
	}
	if off >= s.size {
		return 0, io.EOF
	}
	short := false
	if rest := s.size - off; int64(len(p)) > rest {
		p, short = p[:rest], true
	}
	n := 0
	for n < len(p) {
		if s.ctx.Err() != nil {
			return n, fmt.Errorf("httpsource: download ended: %w", context.Cause(s.ctx))
		}
		at := off + int64(n)
		err := s.seek(at)
		if err == nil {
			var m int
			m, err = s.read(p[n:])
			n += m
			if m > 0 {
				s.failures = 0
			}
		}
		if err != nil {
			s.drop()
			if err = s.pause(err); err != nil {
				return n, err
			}
		}
	}
	if short {
		return n, io.EOF
	}
	return n, nil
}

// seek makes body's next byte the one at off: from the open response if
// off is at most skipMax ahead of it and within it, else by a new
// request, of a larger window when it continues the last one in order.
func (s *Source) seek(off int64) error {
	if s.body != nil && off >= s.pos && off-s.pos <= skipMax && off < s.end {
		if gap := off - s.pos; gap > 0 {
			n, err := io.CopyN(io.Discard, s.body, gap)
			s.pos += n
			s.stats.Received += n
			s.stats.Skipped += n
			if err != nil {
				return transient(fmt.Errorf("httpsource: skipping to %d: %w", off, err))
			}
		}
		return nil
	}
	resume := s.body == nil && s.stats.Requests > 0 && s.failures > 0
	if off == s.pos && (s.body == nil || s.pos == s.end) {
		s.window = min(2*s.window, maxWindow)
	} else {
		s.window = minWindow
	}
	s.drop()
	return s.connect(off, resume)
}

// read reads from the open response into p, cutting a response that
// sends nothing for Stall.
func (s *Source) read(p []byte) (int, error) {
	stop := s.reqStop
	t := time.AfterFunc(s.cfg.Stall, stop)
	n, err := s.body.Read(p)
	stalled := !t.Stop()
	s.pos += int64(n)
	s.stats.Received += int64(n)
	switch {
	case err == nil && s.pos == s.end:
		s.drop() // the window is read: the next read asks for the next one
		return n, nil
	case err == nil || (err == io.EOF && s.pos == s.end):
		return n, nil
	case stalled && s.ctx.Err() == nil:
		return n, transient(fmt.Errorf("httpsource: no data for %s at offset %d", s.cfg.Stall, s.pos))
	case err == io.EOF:
		return n, transient(fmt.Errorf("httpsource: response ended at offset %d, before %d", s.pos, s.end))
	}
	return n, transient(fmt.Errorf("httpsource: read at offset %d: %w", s.pos, err))
}

// drop closes the open response, if any.
func (s *Source) drop() {
	if s.body != nil {
		s.body.Close()
		s.body = nil
	}
	if s.reqStop != nil {
		s.reqStop()
		s.reqStop = nil
	}
}

// pause decides after a failure: a permanent error, or one too many in a
// row, is returned; otherwise it waits (the backoff, or the server's
// Retry-After when longer) and returns nil for the caller to try again.
func (s *Source) pause(err error) error {
	var t *transientError
	if !errors.As(err, &t) {
		return err
	}
	if s.failures >= s.cfg.MaxRetries {
		return fmt.Errorf("httpsource: giving up after %d failures in a row: %w", s.failures+1, t.err)
	}
	wait := s.cfg.Backoff.Delay(s.failures)
	if t.retryAfter > wait {
		wait = t.retryAfter
	}
	s.failures++
	s.cfg.Log.Warn("httpsource: download interrupted; resuming", "url", Redact(s.url), "at", s.pos, "err", t.err, "wait", wait, "failures", s.failures)
	if retry.Sleep(s.ctx, s.cfg.Clock, wait) != nil {
		return fmt.Errorf("httpsource: download ended: %w", context.Cause(s.ctx))
	}
	return nil
}

// transientError is a failure worth retrying, with the wait the server
// asked for.
type transientError struct {
	err        error
	retryAfter time.Duration
}

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

func transient(err error) error { return &transientError{err: err} }

// Redact drops a URL's query and user info for logs and errors: a
// download link may carry a token in them.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

// itoa is strconv.FormatInt for offsets.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }

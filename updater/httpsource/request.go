package httpsource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// connect requests the bundle from off to its end and, when the answer
// is the bytes from off, makes it the open response. resume says the
// request follows a failure, for the statistics.
func (s *Source) connect(off int64, resume bool) error {
	ctx, stop := context.WithCancel(s.ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		stop()
		return fmt.Errorf("httpsource: %w", err)
	}
	for k, v := range s.cfg.Header {
		req.Header[k] = v
	}
	// A window, not the rest of the file: a read elsewhere (an adaptive
	// install skips the chunks the slot holds) abandons what is in flight,
	// at most the window's rest, and the window grows while the reads go
	// on in order (see seek).
	end := off + s.window
	if s.size >= 0 {
		end = min(end, s.size)
	}
	req.Header.Set("Range", "bytes="+itoa(off)+"-"+itoa(end-1))
	// Accept-Encoding would let the transport decompress and lose the
	// byte offsets: the bundle is taken as stored.
	req.Header.Set("Accept-Encoding", "identity")
	if s.validator != "" {
		req.Header.Set("If-Range", s.validator)
	}
	s.stats.Requests++
	if resume {
		s.stats.Resumes++
	}
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		stop()
		if s.ctx.Err() != nil {
			return fmt.Errorf("httpsource: download ended: %w", context.Cause(s.ctx))
		}
		return transient(fmt.Errorf("httpsource: request from offset %d: %w", off, err))
	}
	last, err := s.accept(resp, off)
	if err != nil {
		// Drain a little so the connection can be reused; bounded.
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		resp.Body.Close()
		stop()
		return err
	}
	s.body, s.reqStop, s.pos, s.end = resp.Body, stop, off, last+1
	return nil
}

// accept checks that resp carries the bundle's bytes from off and
// returns the offset of the last byte it carries.
func (s *Source) accept(resp *http.Response, off int64) (int64, error) {
	first := s.size < 0
	where := fmt.Sprintf("from offset %d", off)
	switch code := resp.StatusCode; {
	case code == http.StatusPartialContent:
		a, b, total, err := parseContentRange(resp.Header.Get("Content-Range"))
		if err != nil {
			return 0, err
		}
		if a != off {
			return 0, fmt.Errorf("httpsource: asked for bytes %s, the server sent them from %d", where, a)
		}
		return b, s.learn(total, resp, first)
	case code == http.StatusOK && off == 0:
		// A server without Range support: fine for reading in order;
		// a resume would have to start over, and is refused then.
		if resp.ContentLength < 0 {
			return 0, errors.New("httpsource: the server gives no length for the bundle")
		}
		return resp.ContentLength - 1, s.learn(resp.ContentLength, resp, first)
	case code == http.StatusOK:
		return 0, fmt.Errorf("httpsource: asked for the bytes %s, the server sent the whole file (it ignores Range, or the file changed): not starting over", where)
	case code == http.StatusNotFound || code == http.StatusGone:
		if first {
			return 0, fmt.Errorf("httpsource: %s: %s", Redact(s.url), resp.Status)
		}
		return 0, fmt.Errorf("httpsource: resuming %s: %s: the bundle is gone from the server", where, resp.Status)
	case code == http.StatusRequestedRangeNotSatisfiable:
		return 0, fmt.Errorf("httpsource: resuming %s: %s: the server no longer has those bytes", where, resp.Status)
	case code == http.StatusTooManyRequests || code >= 500:
		t := &transientError{err: fmt.Errorf("httpsource: request %s: %s", where, resp.Status)}
		if d, ok := retryAfter(resp, s); ok {
			t.retryAfter = d
		}
		return 0, t
	}
	return 0, fmt.Errorf("httpsource: request %s: %s", where, resp.Status)
}

// learn records the bundle's size and validator from the first response
// and holds later ones to them.
func (s *Source) learn(total int64, resp *http.Response, first bool) error {
	v := resp.Header.Get("ETag")
	if v == "" || len(v) > 2 && v[:2] == "W/" {
		v = resp.Header.Get("Last-Modified") // a weak ETag cannot go in If-Range
	}
	if len(v) > 256 {
		v = ""
	}
	if first {
		if total > s.cfg.MaxSize {
			return fmt.Errorf("httpsource: the bundle is %d bytes, more than the %d this lockd takes", total, s.cfg.MaxSize)
		}
		s.size, s.validator = total, v
		return nil
	}
	if total != s.size || (s.validator != "" && v != "" && v != s.validator) {
		return fmt.Errorf("httpsource: the bundle changed on the server during the download (%d bytes, %q; it was %d, %q)", total, v, s.size, s.validator)
	}
	return nil
}

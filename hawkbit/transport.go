package hawkbit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"lockd.dev/lockd/hawkbit/ddi"
	"lockd.dev/lockd/internal/retry"
	"lockd.dev/lockd/updater/httpsource"
)

// requestTimeout bounds one DDI request, body included.
const requestTimeout = time.Minute

// httpError is a DDI request answered with an error status.
type httpError struct {
	method, what string
	code         int
	retryAfter   time.Duration
}

func (e *httpError) Error() string {
	return fmt.Sprintf("hawkbit: %s %s: %d %s", e.method, e.what, e.code, http.StatusText(e.code))
}

// sameOrigin checks that a link the server gave stays on the server lockd
// was configured with: the token goes only there, and only there does the
// DDI root lead. (Artifact downloads may come from elsewhere, without the
// token: see download.)
func (c *Client) sameOrigin(link string) (*url.URL, error) {
	u, err := url.Parse(link)
	if err != nil || u.Scheme != c.orig.Scheme || u.Host != c.orig.Host || u.User != nil {
		return nil, fmt.Errorf("hawkbit: the server links to %q, off %s://%s: not followed", httpsource.Redact(link), c.orig.Scheme, c.orig.Host)
	}
	return u, nil
}

// get reads the DDI resource at link into v (a ddi shape, checked).
func (c *Client) get(ctx context.Context, link string, v any) error {
	return c.do(ctx, http.MethodGet, link, nil, v)
}

// send PUTs or POSTs v as JSON to link.
func (c *Client) send(ctx context.Context, method, link string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("hawkbit: %w", err)
	}
	return c.do(ctx, method, link, b, nil)
}

func (c *Client) do(ctx context.Context, method, link string, body []byte, out any) error {
	u, err := c.sameOrigin(link)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("hawkbit: %w", err)
	}
	req.Header.Set("Accept", "application/hal+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.cfg.Authorization != "" {
		req.Header.Set("Authorization", c.cfg.Authorization)
	}
	what := httpsource.Redact(u.Path)
	resp, err := c.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("hawkbit: %s %s: %w", method, what, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		e := &httpError{method: method, what: what, code: resp.StatusCode}
		if d, ok := retry.RetryAfter(resp.Header, c.cfg.Clock.Now(), time.Hour); ok {
			e.retryAfter = d
		}
		return e
	}
	if out == nil {
		_, _ = io.CopyN(io.Discard, resp.Body, ddi.MaxBody)
		return nil
	}
	if err := ddi.Read(resp.Body, out); err != nil {
		return fmt.Errorf("hawkbit: %s %s: %w", method, what, err)
	}
	return nil
}

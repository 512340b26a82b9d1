package httpsource

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"lockd.dev/lockd/internal/retry"
)

// maxContentRange bounds the Content-Range header read.
const maxContentRange = 128

// parseContentRange reads a 206 response's "bytes FIRST-LAST/TOTAL"
// (RFC 9110, 14.4). An unknown total ("*") is refused: a download must
// know where the bundle ends.
func parseContentRange(v string) (first, last, total int64, err error) {
	if len(v) > maxContentRange {
		return 0, 0, 0, errors.New("httpsource: Content-Range too long")
	}
	rest, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return 0, 0, 0, fmt.Errorf("httpsource: Content-Range %q: not in bytes", v)
	}
	span, size, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, 0, 0, fmt.Errorf("httpsource: Content-Range %q: no total", v)
	}
	a, b, ok := strings.Cut(span, "-")
	if !ok {
		return 0, 0, 0, fmt.Errorf("httpsource: Content-Range %q: no range", v)
	}
	nums := [3]int64{}
	for i, s := range []string{a, b, size} {
		if s == "" || strings.TrimLeft(s, "0123456789") != "" {
			return 0, 0, 0, fmt.Errorf("httpsource: Content-Range %q: not a byte range with its total", v)
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("httpsource: Content-Range %q: %w", v, err)
		}
		nums[i] = n
	}
	first, last, total = nums[0], nums[1], nums[2]
	if first > last || last >= total {
		return 0, 0, 0, fmt.Errorf("httpsource: Content-Range %q: range outside the total", v)
	}
	return first, last, total, nil
}

// retryAfter is the wait a 429 or 503 asks for.
func retryAfter(resp *http.Response, s *Source) (time.Duration, bool) {
	return retry.RetryAfter(resp.Header, s.cfg.Clock.Now(), s.cfg.MaxRetryAfter)
}

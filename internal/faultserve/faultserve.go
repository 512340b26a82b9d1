// Package faultserve serves a file over HTTP with Range support and the
// faults a download meets in the field, for the tests and benchmarks of
// lockd's network side (updater/httpsource, hawkbit, lockbench): a
// connection cut mid-body, sporadic 5xx, 429 with Retry-After, 404 on a
// resumed range, a server that stalls, one that ignores Range. It counts
// what it sent, so a test can tell bytes sent twice.
package faultserve

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Faults says what goes wrong; the zero value serves faithfully. Fields
// are read at each request, under the handler's lock: change them with
// File.SetFaults.
type Faults struct {
	// CutAt cuts the connection once the body has reached each of these
	// file offsets, each once (the client sees a short body).
	CutAt []int64
	// Error5xxEvery answers every n-th request 503 (0: never).
	Error5xxEvery int
	// TooMany answers the next n requests 429 with Retry-After:
	// RetryAfter seconds.
	TooMany, RetryAfter int
	// NotFoundOnResume answers 404 to a request whose range starts past 0.
	NotFoundOnResume bool
	// StallAt stops sending at this offset (when > 0) and holds the
	// connection until the client gives up, once.
	StallAt int64
	// NoRanges answers every request with the whole file (200).
	NoRanges bool
	// Down answers every request 503 without Retry-After.
	Down bool
}

// Stats is what a File sent.
type Stats struct {
	Requests, RangeRequests int
	// Sent is every body byte written; Unique those of offsets never
	// sent before, so Sent-Unique were sent again.
	Sent, Unique int64
}

// File is an http.Handler serving Data.
type File struct {
	Data []byte
	// ETag, when set, is sent and honoured in If-Range.
	ETag string

	mu     sync.Mutex
	faults Faults
	stats  Stats
	seen   spans // offsets sent before
	n      int   // requests answered
}

// New serves data with faults f.
func New(data []byte, etag string, f Faults) *File {
	return &File{Data: data, ETag: etag, faults: f}
}

// SetFaults replaces the faults.
func (h *File) SetFaults(f Faults) { h.mu.Lock(); h.faults = f; h.mu.Unlock() }

// Stats returns what was sent so far.
func (h *File) Stats() Stats { h.mu.Lock(); defer h.mu.Unlock(); return h.stats }

// ServeHTTP answers GET and HEAD for the whole file or one range.
func (h *File) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.n++
	h.stats.Requests++
	f := h.faults
	size := int64(len(h.Data))
	from, last, ranged := rangeOf(r.Header.Get("Range"))
	if ranged && h.ETag != "" && r.Header.Get("If-Range") != "" && r.Header.Get("If-Range") != h.ETag {
		ranged, from = false, 0
	}
	if f.NoRanges {
		ranged, from = false, 0
	}
	stop := size // where this response's bytes end
	if ranged && last >= 0 && last+1 < size {
		stop = last + 1
	}
	if ranged {
		h.stats.RangeRequests++
	}
	code := 0
	switch {
	case f.Down:
		code = http.StatusServiceUnavailable
	case f.TooMany > 0:
		h.faults.TooMany--
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		code = http.StatusTooManyRequests
	case f.Error5xxEvery > 0 && h.n%f.Error5xxEvery == 0:
		code = http.StatusServiceUnavailable
	case f.NotFoundOnResume && from > 0:
		code = http.StatusNotFound
	case ranged && from >= size:
		w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
		code = http.StatusRequestedRangeNotSatisfiable
	}
	// The first fault inside the range ends this response, and is spent.
	cut, stall := int64(-1), int64(-1)
	if code == 0 {
		ci := -1
		for i, at := range f.CutAt {
			if at > from && at < stop && (ci < 0 || at < f.CutAt[ci]) {
				ci = i
			}
		}
		if f.StallAt > from && f.StallAt < stop && (ci < 0 || f.StallAt < f.CutAt[ci]) {
			stall = f.StallAt
			h.faults.StallAt = 0
		} else if ci >= 0 {
			cut = f.CutAt[ci]
			h.faults.CutAt = append(append([]int64(nil), f.CutAt[:ci]...), f.CutAt[ci+1:]...)
		}
	}
	h.mu.Unlock()
	if code != 0 {
		http.Error(w, http.StatusText(code), code)
		return
	}
	if h.ETag != "" {
		w.Header().Set("ETag", h.ETag)
	}
	w.Header().Set("Accept-Ranges", "bytes")
	w.Header().Set("Content-Length", strconv.FormatInt(stop-from, 10))
	if ranged {
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, stop-1, size))
		w.WriteHeader(http.StatusPartialContent)
	} else {
		w.WriteHeader(http.StatusOK)
	}
	if r.Method == http.MethodHead {
		return
	}
	end := stop
	if cut >= 0 {
		end = min(end, cut)
	}
	if stall >= 0 {
		end = min(end, stall)
	}
	for off := from; off < end; {
		n := min(end-off, 32<<10)
		// Counted first: a client may have read the last bytes before a
		// count after the write, and so may a test reading Stats.
		h.sent(off, n)
		if _, err := w.Write(h.Data[off : off+n]); err != nil {
			return
		}
		off += n
	}
	switch {
	case stall >= 0 && stall == end:
		w.(http.Flusher).Flush()
		<-r.Context().Done() // the client cuts it
	case cut >= 0 && cut == end && end < stop:
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // the connection goes, the body short
	}
}

// sent counts n bytes written from off.
func (h *File) sent(off, n int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stats.Sent += n
	h.stats.Unique += h.seen.add(off, off+n)
}

// rangeOf reads "bytes=N-" or "bytes=N-M" (what lockd sends): the first
// and last offsets asked for (last -1: to the end) and whether the
// request had one. Anything else is served whole.
func rangeOf(v string) (first, last int64, ok bool) {
	rest, ok := strings.CutPrefix(v, "bytes=")
	if !ok {
		return 0, 0, false
	}
	a, b, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, 0, false
	}
	first, err := strconv.ParseInt(a, 10, 64)
	if err != nil || first < 0 {
		return 0, 0, false
	}
	last = -1
	if b != "" {
		if last, err = strconv.ParseInt(b, 10, 64); err != nil || last < first {
			return 0, 0, false
		}
	}
	return first, last, true
}

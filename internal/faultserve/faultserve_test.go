package faultserve

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestSpans(t *testing.T) {
	var s spans
	for _, c := range []struct{ lo, hi, want int64 }{
		{0, 10, 10}, {5, 15, 5}, {20, 30, 10}, {15, 20, 5}, {0, 30, 0}, {29, 40, 10}, {50, 50, 0}, {45, 46, 1},
	} {
		if got := s.add(c.lo, c.hi); got != c.want {
			t.Fatalf("add [%d,%d): %d new, want %d (set %v)", c.lo, c.hi, got, c.want, s)
		}
	}
	if len(s) != 2 || s[0] != [2]int64{0, 40} || s[1] != [2]int64{45, 46} {
		t.Fatalf("set %v", s)
	}
}

func TestCutAndResume(t *testing.T) {
	data := make([]byte, 100<<10)
	for i := range data {
		data[i] = byte(i)
	}
	f := New(data, `"v1"`, Faults{CutAt: []int64{40 << 10}})
	srv := httptest.NewServer(f)
	defer srv.Close()
	get := func(rng string) ([]byte, int, error) {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, 0, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return b, resp.StatusCode, err
	}
	b, code, err := get("bytes=0-")
	if err == nil || code != 206 || len(b) != 40<<10 {
		t.Fatalf("first: %d bytes, %d, %v; want a cut at 40 KiB", len(b), code, err)
	}
	b, code, err = get("bytes=40960-")
	if err != nil || code != 206 || len(b) != 60<<10 || b[0] != data[40<<10] {
		t.Fatalf("resume: %d bytes, %d, %v", len(b), code, err)
	}
	if st := f.Stats(); st.Sent != 100<<10 || st.Unique != 100<<10 || st.Requests != 2 {
		t.Fatalf("stats %+v", st)
	}
	get("bytes=0-")
	if st := f.Stats(); st.Sent != 200<<10 || st.Unique != 100<<10 {
		t.Fatalf("stats after a second whole read %+v", st)
	}
}

package retry

import (
	"net/http"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	for _, r := range []float64{0, 0.5, 0.999} {
		b := Backoff{Base: time.Second, Max: time.Minute, Rand: func() float64 { return r }}
		prev := time.Duration(0)
		for n := 0; n < 100; n++ {
			d := b.Delay(n)
			full := time.Minute
			if n < 6 {
				full = time.Second << n
			}
			if d < full/2 || d > full {
				t.Fatalf("rand %v: delay %d = %v, want within [%v, %v]", r, n, d, full/2, full)
			}
			if d < prev {
				t.Fatalf("rand %v: delay %d = %v shrank from %v", r, n, d, prev)
			}
			prev = d
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"7", 7 * time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"99999999999999999999", time.Hour, false}, // not a number Go reads: not a date either
		{"9223372036", time.Hour, true},
		{"-3", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{now.Add(48 * time.Hour).Format(http.TimeFormat), time.Hour, true},
	} {
		h := http.Header{}
		if c.v != "" {
			h.Set("Retry-After", c.v)
		}
		got, ok := RetryAfter(h, now, time.Hour)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("Retry-After %q: %v %v, want %v %v", c.v, got, ok, c.want, c.ok)
		}
	}
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "120", "Wed, 25 Nov 2026 12:01:00 GMT", "x", "18446744073709551616"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		h := http.Header{}
		h.Set("Retry-After", v)
		d, ok := RetryAfter(h, now, 10*time.Minute)
		if ok && (d < 0 || d > 10*time.Minute) {
			t.Fatalf("%q: %v outside [0, 10m]", v, d)
		}
	})
}

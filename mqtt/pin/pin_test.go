package pin

import (
	"strings"
	"testing"
	"time"
)

func TestDigest(t *testing.T) {
	d, err := Digest("482916")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(d, "482916") {
		t.Fatal("the digest holds the digits")
	}
	v, err := ParseDigest(d)
	if err != nil {
		t.Fatal(err)
	}
	for pin, want := range map[string]bool{"482916": true, "482917": false, "48291": false, "": false,
		"482916 ": false, "４８２９１６": false} {
		if got := v.Match(pin); got != want {
			t.Errorf("Match(%q) = %v, want %v", pin, got, want)
		}
	}
	if d2, _ := Digest("482916"); d2 == d {
		t.Error("two digests of one PIN are equal: no salt")
	}
	for _, bad := range []string{"12", "12345678901234", "12a4", "-1234"} {
		if _, err := Digest(bad); err != ErrFormat {
			t.Errorf("Digest(%q): %v, want ErrFormat", bad, err)
		}
	}
	for _, bad := range []string{"", "md5$1$a$b", "pbkdf2-sha256$10$AAAAAAAAAAAAAAAAAAAAAA$" + strings.Repeat("A", 43),
		"pbkdf2-sha256$100000$!!$AA", "pbkdf2-sha256$100000$AAAAAAAAAAAAAAAAAAAAAA$AAAA"} {
		if _, err := ParseDigest(bad); err == nil || !strings.HasPrefix(err.Error(), "pin: ") {
			t.Errorf("ParseDigest(%q): %v, want a pin: error", bad, err)
		}
	}
}

func TestGuard(t *testing.T) {
	d, _ := DigestWithCost("2468", minIterations)
	v, _ := ParseDigest(d)
	now := time.Unix(1_800_000_000, 0)
	g := NewGuard(v, func() time.Time { return now })
	for i := 1; i < lockoutAfter; i++ {
		if r, _ := g.Check("1111"); r != Wrong {
			t.Fatalf("wrong PIN %d: %v", i, r)
		}
	}
	if r, _ := g.Check("2468"); r != OK {
		t.Fatalf("right PIN after %d wrong: %v", lockoutAfter-1, r)
	}
	for i := 1; i < lockoutAfter; i++ {
		g.Check("1111")
	}
	r, until := g.Check("1111")
	if r != Wrong || until != now.Add(lockoutBase) {
		t.Fatalf("wrong PIN %d: %v until %v, want a lockout of %v", lockoutAfter, r, until, lockoutBase)
	}
	// During the lockout even the right PIN is refused unchecked.
	if r, _ := g.Check("2468"); r != LockedOut {
		t.Fatalf("right PIN during the lockout: %v", r)
	}
	now = now.Add(lockoutBase)
	if r, until := g.Check("1111"); r != Wrong || until != now.Add(2*lockoutBase) {
		t.Fatalf("first wrong PIN after the lockout: %v until %v, want a doubled lockout", r, until)
	}
	for range 20 {
		now = now.Add(lockoutMax)
		g.Check("1111")
	}
	if _, until := g.Check("1111"); until.Sub(now) > lockoutMax {
		t.Errorf("lockout of %v, over the cap %v", until.Sub(now), lockoutMax)
	}
	now = now.Add(lockoutMax)
	if r, _ := g.Check("2468"); r != OK {
		t.Fatalf("right PIN after the lockout: %v", r)
	}
	if r, until := g.Check("1111"); r != Wrong || !until.IsZero() {
		t.Errorf("a right PIN did not reset the count: %v until %v", r, until)
	}
}

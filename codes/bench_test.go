package codes

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"
	"time"
)

// benchDirs caches one store directory per size across benchmark runs;
// TestMain removes them.
var benchDirs = map[int]string{}

func cleanBench() {
	for _, d := range benchDirs {
		os.RemoveAll(d)
	}
}

// benchCode is the i-th of a set of distinct 8-digit codes (i < 10^8; the
// multiplier is coprime to 10^8). All have the same length, so none starts
// or ends another; 8 digits is on the long side of what people use, so the
// affix table is larger than typical.
func benchCode(i int) string { return fmt.Sprintf("%08d", (uint64(i)*2654435761+12345)%100_000_000) }

// benchStore returns a closed store dir with n user codes and a full audit
// log (DefaultRetention events), written in one transaction straight into
// the tables (Add checks prefixes and picks a slot per code; that is not
// what is measured here).
func benchStore(b testing.TB, n int) string {
	if d, ok := benchDirs[n]; ok {
		return d
	}
	dir, err := os.MkdirTemp("", "codes-bench")
	if err != nil {
		b.Fatal(err)
	}
	benchDirs[n] = dir
	if _, err := FactoryInit(dir, false); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	s, err := Open(ctx, Options{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.SetAdmin(ctx, adminCode, time.Now()); err != nil {
		b.Fatal(err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		insUser, err := tx.Prepare("INSERT INTO users (kind, slot, created_us) VALUES ('user', ?, 0)")
		if err != nil {
			return err
		}
		ins, err := tx.Prepare("INSERT INTO credentials (user_id, type, digest, created_us) VALUES (?, 'pin', ?, 0)")
		if err != nil {
			return err
		}
		for i := 0; i < DefaultRetention; i++ {
			_, err := tx.Exec(`INSERT INTO audit (time_us, kind, source, reason, code_id, code_kind, slot, details, uid)
				VALUES (?, 'entry', 'keypad', '', ?, 'user', ?, '{"door":"closed"}', NULL)`, i, i%n+2, i%n+1)
			if err != nil {
				return err
			}
		}
		for i := 0; i < n; i++ {
			r, err := insUser.Exec(i + 1)
			if err != nil {
				return err
			}
			user, _ := r.LastInsertId()
			if r, err = ins.Exec(user, s.dig.code(benchCode(i))); err != nil {
				return err
			}
			id, _ := r.LastInsertId()
			if err := s.insertAffixes(ctx, tx, id, benchCode(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	return dir
}

// BenchmarkVerify checks granted entries against n stored codes: one HMAC
// and one indexed lookup, no write (see usage.go).
func BenchmarkVerify(b *testing.B) {
	for _, n := range []int{10, 1_000, 10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			dir := benchStore(b, n)
			ctx := context.Background()
			s, err := Open(ctx, Options{Dir: dir})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			now := time.Now()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				v, err := s.Verify(ctx, PurposeOpen, benchCode((i*7919)%n), now)
				if err != nil || !v.OK {
					b.Fatal(v, err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
		})
	}
}

// BenchmarkVerifyWrong checks wrong entries, each a durable write of the
// failure count (with the lockout threshold out of reach).
func BenchmarkVerifyWrong(b *testing.B) {
	dir := benchStore(b, 10_000)
	ctx := context.Background()
	s, err := Open(ctx, Options{Dir: dir, Lockout: LockoutPolicy{Threshold: 1 << 30}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if v, err := s.Verify(ctx, PurposeOpen, "99999999", now); err != nil || v.OK {
			b.Fatal(v, err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
	s.ResetLockout(ctx)
}

// BenchmarkOpen opens a store of 10,000 codes: integrity check, lockout
// resume, statements.
func BenchmarkOpen(b *testing.B) {
	dir := benchStore(b, 10_000)
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		s, err := Open(ctx, Options{Dir: dir})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
}

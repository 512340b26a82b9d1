package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"lockd.dev/lockd/codes"
)

// benchStore creates a provisioned store in dir holding n user codes and
// returns it open, with one of its codes.
func benchStore(ctx context.Context, dir string, n int) (*codes.Store, string, error) {
	if _, err := codes.FactoryInit(dir, false); err != nil {
		return nil, "", err
	}
	s, err := codes.Open(ctx, codes.Options{Dir: dir})
	if err != nil {
		return nil, "", err
	}
	if err := s.SetAdmin(ctx, "91735824", time.Now()); err != nil {
		s.Close()
		return nil, "", err
	}
	start := time.Now()
	var first string
	x := uint64(12345)
	for added := 0; added < n; {
		x = x*6364136223846793005 + 1442695040888963407
		code := fmt.Sprintf("%08d", (x>>20)%100_000_000)
		_, err := s.Add(ctx, "", code, codes.AddOptions{Kind: codes.KindUser})
		if errors.Is(err, codes.ErrWeakCode) || errors.Is(err, codes.ErrDuplicate) || errors.Is(err, codes.ErrAmbiguous) {
			continue
		}
		if err != nil {
			s.Close()
			return nil, "", err
		}
		if first == "" {
			first = code
		}
		added++
	}
	if n > 0 {
		fmt.Printf("(stored %d codes in %v)\n", n, time.Since(start).Round(time.Millisecond))
	} else {
		first = "91735824"
	}
	return s, first, nil
}

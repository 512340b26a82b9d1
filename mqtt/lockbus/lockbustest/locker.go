// Package lockbustest fakes what package bridge asks of lockbus: a lockd
// that records Lock and Unlock calls and answers with Err.
package lockbustest

import (
	"context"
	"sync"
)

// Locker records calls. Set Err to make lockd refuse.
type Locker struct {
	mu    sync.Mutex
	calls []string
	// Err is what the next calls return.
	Err error
}

// Lock records "Lock".
func (l *Locker) Lock(ctx context.Context) error { return l.record("Lock") }

// Unlock records "Unlock".
func (l *Locker) Unlock(ctx context.Context) error { return l.record("Unlock") }

func (l *Locker) record(m string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, m)
	return l.Err
}

// Calls returns the calls so far.
func (l *Locker) Calls() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.calls...)
}

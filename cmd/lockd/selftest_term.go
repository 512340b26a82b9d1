package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"lockd.dev/lockd/selftest"
)

// termInstaller is the installer at a terminal: steps are printed, a y/n
// answers Saw, and an empty line (or anything) during an action step
// skips it.
type termInstaller struct {
	out  io.Writer
	skip chan struct{}
	eof  chan struct{} // closed when the input ends

	mu     sync.Mutex
	answer chan string // non-nil while Saw waits for a line
}

var _ selftest.Installer = (*termInstaller)(nil)

// newTermInstaller reads lines from in until ctx is done or in ends.
func newTermInstaller(ctx context.Context, in io.Reader, out io.Writer) *termInstaller {
	t := &termInstaller{out: out, skip: make(chan struct{}, 1), eof: make(chan struct{})}
	go func() {
		defer close(t.eof)
		sc := bufio.NewScanner(in)
		for sc.Scan() && ctx.Err() == nil {
			t.mu.Lock()
			answer := t.answer
			t.mu.Unlock()
			if answer != nil {
				answer <- sc.Text()
				continue
			}
			select {
			case t.skip <- struct{}{}:
			default: // a skip is already pending
			}
		}
	}()
	return t
}

func (t *termInstaller) Show(s selftest.Step) {
	if s.Action != selftest.Look {
		fmt.Fprintln(t.out, s.Text)
	}
}

func (t *termInstaller) Saw(ctx context.Context, s selftest.Step) (bool, error) {
	answer := make(chan string, 1)
	t.mu.Lock()
	t.answer = answer
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		t.answer = nil
		t.mu.Unlock()
	}()
	// A skip typed before the question is not its answer.
	select {
	case <-t.skip:
	default:
	}
	fmt.Fprintf(t.out, "%s [y/n] ", s.Text)
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case <-t.eof:
		return false, errors.New("selftest: no answer: the input ended (run lockd selftest at a terminal)")
	case a := <-answer:
		a = strings.ToLower(strings.TrimSpace(a))
		return a == "y" || a == "yes", nil
	}
}

func (t *termInstaller) Skip() <-chan struct{} { return t.skip }

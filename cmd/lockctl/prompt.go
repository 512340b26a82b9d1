package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// maxCodeLine bounds a line of stdin read as a code; real codes are a few
// digits, and lockd checks them.
const maxCodeLine = 256

// readCode gets a code without it ever being on the command line. On a
// terminal it asks twice without echo. Otherwise it reads the first line
// of stdin; if a second non-empty line follows, it must repeat the code,
// so `printf '1234\n1234\n' | lockctl setup` and `echo 1234 | lockctl
// setup` both work. Anything after the second line is ignored.
func (a *app) readCode(ctx context.Context, what string) (string, error) {
	if f, ok := a.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return a.promptCode(ctx, int(f.Fd()), what)
	}
	return readCodeLines(a.stdin, what)
}

// readCodeLines is readCode for a pipe or file.
func readCodeLines(r io.Reader, what string) (string, error) {
	br := bufio.NewReaderSize(r, maxCodeLine+2)
	first, err := readLine(br)
	if err != nil {
		return "", fmt.Errorf("%s: reading stdin: %w", what, err)
	}
	if first == "" {
		return "", fmt.Errorf("%s: no code on stdin (codes are never taken from the command line)", what)
	}
	second, err := readLine(br)
	if err != nil {
		return "", fmt.Errorf("%s: reading stdin: %w", what, err)
	}
	if second != "" && second != first {
		return "", fmt.Errorf("%s: the two codes on stdin do not match", what)
	}
	return first, nil
}

// readLine reads one line without its line ending or surrounding blanks;
// "" at the end of input.
func readLine(br *bufio.Reader) (string, error) {
	line, err := br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return "", fmt.Errorf("line longer than %d bytes", maxCodeLine)
	case err != nil && !errors.Is(err, io.EOF):
		return "", err
	}
	return strings.TrimSpace(string(line)), nil
}

// promptCode asks for the code twice on the terminal fd without echo.
func (a *app) promptCode(ctx context.Context, fd int, what string) (string, error) {
	first, err := a.promptOnce(ctx, fd, "New "+what+": ")
	if err != nil {
		return "", err
	}
	if first == "" {
		return "", fmt.Errorf("%s: no code entered", what)
	}
	second, err := a.promptOnce(ctx, fd, "Repeat "+what+": ")
	if err != nil {
		return "", err
	}
	if first != second {
		return "", fmt.Errorf("%s: the codes do not match", what)
	}
	return first, nil
}

// promptOnce reads one line without echo. Ctrl-C (which cancels ctx)
// restores the terminal and returns at once instead of waiting for Enter.
func (a *app) promptOnce(ctx context.Context, fd int, prompt string) (string, error) {
	fmt.Fprint(a.stderr, prompt)
	state, err := term.GetState(fd)
	if err != nil {
		return "", fmt.Errorf("terminal: %w", err)
	}
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := term.ReadPassword(fd)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		fmt.Fprintln(a.stderr)
		if r.err != nil {
			return "", fmt.Errorf("terminal: %w", r.err)
		}
		if len(r.b) > maxCodeLine {
			return "", fmt.Errorf("code longer than %d bytes", maxCodeLine)
		}
		return strings.TrimSpace(string(r.b)), nil
	case <-ctx.Done():
		_ = term.Restore(fd, state)
		fmt.Fprintln(a.stderr)
		return "", ctx.Err()
	}
}

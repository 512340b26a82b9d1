package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"lockd.dev/lockd/mqtt/pin"
)

// pinDigest reads the PIN twice (without echo at a terminal) and prints
// the pin_digest line for the credentials file. The PIN is never an
// argument: it would sit in the shell's history and in ps.
func pinDigest(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "lockd-mqtt: pin-digest takes no arguments; it reads the PIN from stdin\n")
		return 2
	}
	read := lineReader(stdin, stderr)
	first, err1 := read("PIN (4-12 digits): ")
	again, err2 := read("again: ")
	switch {
	case err1 != nil || err2 != nil:
		fmt.Fprintf(stderr, "lockd-mqtt: pin-digest: want the PIN twice on stdin\n")
		return 1
	case first != again:
		fmt.Fprintf(stderr, "lockd-mqtt: pin-digest: the two PINs differ\n")
		return 1
	}
	d, err := pin.Digest(first)
	if err != nil {
		fmt.Fprintf(stderr, "lockd-mqtt: pin-digest: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "pin_digest = %q\n", d)
	return 0
}

// lineReader reads lines from stdin: without echo from a terminal,
// plainly from a pipe.
func lineReader(stdin io.Reader, stderr io.Writer) func(prompt string) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return func(prompt string) (string, error) {
			fmt.Fprint(stderr, prompt)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(stderr)
			return string(b), err
		}
	}
	sc := bufio.NewScanner(stdin)
	return func(string) (string, error) {
		if !sc.Scan() {
			return "", io.ErrUnexpectedEOF
		}
		return strings.TrimSpace(sc.Text()), nil
	}
}

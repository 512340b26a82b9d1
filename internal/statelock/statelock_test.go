package statelock

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestOneHolder(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	// flock belongs to the open file, so a second Acquire in the same
	// process is refused like one from another process.
	_, err = Acquire(dir)
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("second Acquire: %v, want ErrBusy naming pid %d", err, os.Getpid())
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	l2, err := Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	l2.Release()
}

// TestOtherProcess: a holder in another process is named by its PID, and
// its death (SIGKILL: no clean-up) frees the directory.
func TestOtherProcess(t *testing.T) {
	if dir := os.Getenv("STATELOCK_HOLD"); dir != "" {
		if _, err := Acquire(dir); err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		fmt.Println("HELD")
		select {} // until killed
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestOtherProcess$")
	cmd.Env = append(os.Environ(), "STATELOCK_HOLD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := out.Read(buf); err != nil || string(buf[:4]) != "HELD" {
		cmd.Process.Kill()
		t.Fatalf("helper: %q %v", buf, err)
	}
	_, err = Acquire(dir)
	if want := fmt.Sprintf("pid %d", cmd.Process.Pid); !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), want) {
		t.Errorf("Acquire while another process holds it: %v, want ErrBusy naming %s", err, want)
	}
	cmd.Process.Kill()
	cmd.Wait()
	l, err := Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after the holder was killed: %v", err)
	}
	l.Release()
}

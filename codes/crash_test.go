package codes

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The crash helper is this test binary run again with crashEnv set: it
// opens the store in the given dir and writes until it is killed,
// printing each acknowledged write on stdout.
const crashEnv = "LOCKD_CODES_CRASH_HELPER"

func TestMain(m *testing.M) {
	if v := os.Getenv(crashEnv); v != "" {
		mode, dir, _ := strings.Cut(v, ":")
		if err := crashHelper(mode, dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	cleanBench()
	os.Exit(code)
}

func crashHelper(mode, dir string) error {
	ctx := context.Background()
	s, err := Open(ctx, Options{Dir: dir, Lockout: LockoutPolicy{Threshold: 3, Base: time.Hour, Max: time.Hour}})
	if err != nil {
		return err
	}
	if ok, _ := s.Provisioned(ctx); !ok {
		if err := s.SetAdmin(ctx, adminCode, time.Now()); err != nil {
			return err
		}
	}
	switch mode {
	case "burst":
		for i := 0; ; i++ {
			code := fmt.Sprintf("%08d", rand.IntN(100_000_000))
			info, err := s.Add(ctx, "burst", code, AddOptions{Kind: KindUser})
			if isErr(err, ErrWeakCode) || isErr(err, ErrDuplicate) || isErr(err, ErrAmbiguous) {
				continue
			}
			if err != nil {
				return err
			}
			fmt.Printf("ack %d\n", info.ID) // unbuffered: one write(2) per line
			if i%4 == 0 {
				if err := s.Record(ctx, AuditEvent{Kind: "burst", UID: -1}); err != nil {
					return err
				}
			}
		}
	case "lockout":
		for {
			v, err := s.Verify(ctx, PurposeOpen, "99999999", time.Now())
			if err != nil {
				return err
			}
			if v.Lockout {
				fmt.Printf("locked %d\n", v.Until.UnixMicro())
				select {} // wait for the kill
			}
		}
	}
	return fmt.Errorf("unknown mode %q", mode)
}

// helper starts the crash helper and returns its stdout lines.
func helper(t *testing.T, mode, dir string) (*exec.Cmd, <-chan string) {
	// Under `go test -exec` (make test-arm64 runs these tests as arm64
	// binaries in qemu-aarch64) the child needs the same wrapper; the
	// Makefile passes it in LOCKD_TEST_EXEC.
	argv := append(strings.Fields(os.Getenv("LOCKD_TEST_EXEC")), os.Args[0], "-test.run=^$")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), crashEnv+"="+mode+":"+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return cmd, lines
}

func TestCrashDuringWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 50 processes")
	}
	e := newEnv(t)
	e.opts.Now = time.Now
	acked := map[int64]bool{}
	ctx := context.Background()
	for round := 0; round < 50; round++ {
		cmd, lines := helper(t, "burst", e.dir)
		// Kill at a random moment after the first acknowledged write.
		first := <-lines
		kill := time.After(time.Duration(rand.IntN(20_000)) * time.Microsecond)
		got := []string{first}
	collect:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					break collect
				}
				got = append(got, l)
			case <-kill:
				cmd.Process.Signal(syscall.SIGKILL)
				kill = nil
			}
		}
		cmd.Wait()
		for _, l := range got {
			id, err := strconv.ParseInt(strings.TrimPrefix(l, "ack "), 10, 64)
			if err != nil {
				t.Fatalf("helper said %q", l)
			}
			acked[id] = true
		}

		s, err := Open(ctx, e.opts)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if len(s.Notices()) != 0 {
			t.Errorf("round %d: notices %+v", round, s.Notices())
		}
		var check string
		s.db.QueryRow("PRAGMA integrity_check").Scan(&check)
		if check != "ok" {
			t.Fatalf("round %d: integrity_check: %s", round, check)
		}
		list, _ := s.List(ctx)
		present := map[int64]bool{}
		for _, i := range list {
			present[i.ID] = true
		}
		for id := range acked {
			if !present[id] {
				t.Fatalf("round %d: acknowledged code %d lost", round, id)
			}
		}
		s.Close()
	}
	t.Logf("%d acknowledged writes over 50 kills", len(acked))
	if len(acked) < 50 {
		t.Errorf("only %d writes acknowledged", len(acked))
	}
}

func TestLockoutSurvivesKill(t *testing.T) {
	e := newEnv(t)
	e.opts.Now = time.Now
	e.opts.Lockout = LockoutPolicy{Threshold: 3, Base: time.Hour, Max: time.Hour}
	cmd, lines := helper(t, "lockout", e.dir)
	l := <-lines
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	us, err := strconv.ParseInt(strings.TrimPrefix(l, "locked "), 10, 64)
	if err != nil {
		t.Fatalf("helper said %q", l)
	}
	s := e.open()
	now := time.Now()
	until, err := s.LockedOutUntil(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.UnixMicro(us); until.Before(want) {
		t.Errorf("lockout until %v after the kill, was %v", until, want)
	}
	if v := verify(t, s, PurposeAdmin, adminCode, now); v.Reason != ReasonLockedOut {
		t.Errorf("admin code after kill: %+v", v)
	}
}

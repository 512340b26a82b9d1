package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// buildLockd builds the daemon as shipped (stripped, no race detector).
func buildLockd() (string, func(), error) {
	dir, err := os.MkdirTemp("", "lockbench-bin")
	if err != nil {
		return "", nil, err
	}
	bin := filepath.Join(dir, "lockd")
	out, err := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/lockd").CombinedOutput()
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("build lockd: %v\n%s", err, out)
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}

// startLockd starts lockd --sim on stateDir with a NOTIFY_SOCKET and waits
// for READY=1; it returns the process and the time from exec to READY=1.
func startLockd(ctx context.Context, bin, stateDir string, extra ...string) (*exec.Cmd, time.Duration, error) {
	sock := filepath.Join(stateDir, "notify.sock")
	os.Remove(sock)
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		return nil, 0, err
	}
	defer conn.Close()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--sim", "--state-dir", stateDir}, extra...)...)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock)
	// lockd's log (slog text on stderr), for the install phases it reports.
	if f, err := os.Create(filepath.Join(stateDir, "lockd.stderr")); err == nil {
		cmd.Stderr = f
		defer f.Close() // the child keeps its own descriptor
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	buf := make([]byte, 4096)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		n, err := conn.Read(buf)
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return nil, 0, fmt.Errorf("waiting for READY=1: %w", err)
		}
		if strings.Contains(string(buf[:n]), "READY=1") {
			return cmd, time.Since(start), nil
		}
	}
}

func stopLockd(cmd *exec.Cmd) error {
	cmd.Process.Signal(syscall.SIGTERM)
	return cmd.Wait()
}

// execToReady measures exec to READY=1 of lockd --sim over a state dir with
// ncodes stored codes.
func execToReady(ctx context.Context, bin string, ncodes int) error {
	dir, err := os.MkdirTemp("", "lockbench-ready")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s, _, err := benchStore(ctx, dir, ncodes)
	if err != nil {
		return err
	}
	s.Close()
	var d []time.Duration
	for i := 0; i < 20; i++ {
		cmd, t, err := startLockd(ctx, bin, dir, "--bus", noBus)
		if err != nil {
			return err
		}
		d = append(d, t)
		if err := stopLockd(cmd); err != nil {
			return fmt.Errorf("lockd exit: %w", err)
		}
	}
	slices.Sort(d)
	fmt.Printf("exec to READY=1 (%d codes, 20 starts): median %v  max %v\n", ncodes,
		percentile(d, 50).Round(100*time.Microsecond), d[len(d)-1].Round(100*time.Microsecond))
	return nil
}

// idle measures the CPU and memory of an idle lockd --sim.
func idle(ctx context.Context, bin string, span time.Duration) error {
	dir, err := os.MkdirTemp("", "lockbench-idle")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cmd, _, err := startLockd(ctx, bin, dir, "--bus", noBus)
	if err != nil {
		return err
	}
	defer stopLockd(cmd)
	m, err := measureIdle(ctx, cmd, span)
	if err != nil {
		return err
	}
	fmt.Printf("idle lockd --sim over %s\n", m)
	return nil
}

// idleFigures are a process's CPU and memory over a span.
type idleFigures struct {
	elapsed, cpu time.Duration
	rss, hwm     string
}

func (m idleFigures) String() string {
	return fmt.Sprintf("%v: CPU %v (%.3f%% of one core)  RSS %s  peak RSS %s",
		m.elapsed.Round(time.Second), m.cpu, 100*m.cpu.Seconds()/m.elapsed.Seconds(), m.rss, m.hwm)
}

// measureIdle lets cmd settle for 2 s, then measures its CPU over span
// and its RSS at the end.
func measureIdle(ctx context.Context, cmd *exec.Cmd, span time.Duration) (idleFigures, error) {
	time.Sleep(2 * time.Second) // let start-up work settle
	pid := cmd.Process.Pid
	t0, err := cpuTicks(pid)
	if err != nil {
		return idleFigures{}, err
	}
	start := time.Now()
	select {
	case <-time.After(span):
	case <-ctx.Done():
		return idleFigures{}, ctx.Err()
	}
	t1, err := cpuTicks(pid)
	if err != nil {
		return idleFigures{}, err
	}
	const hz = 100 // USER_HZ on Linux
	m := idleFigures{elapsed: time.Since(start), cpu: time.Duration(t1-t0) * time.Second / hz}
	if m.rss, err = statusField(pid, "VmRSS"); err != nil {
		return idleFigures{}, err
	}
	m.hwm, _ = statusField(pid, "VmHWM")
	return m, nil
}

func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which may contain spaces.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return utime + stime, nil
}

func statusField(pid int, name string) (string, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+":"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("no %s in /proc/%d/status", name, pid)
}

// binarySize cross-builds the stripped arm64 daemon as Yocto would (cgo,
// PIE) and reports its size.
func binarySize(ctx context.Context) error {
	cc, err := exec.LookPath("aarch64-linux-gnu-gcc")
	if err != nil {
		return fmt.Errorf("arm64 size: no aarch64-linux-gnu-gcc (run make deps): %w", err)
	}
	dir, err := os.MkdirTemp("", "lockbench-arm64")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "lockd")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildmode=pie", "-ldflags=-s -w", "-o", bin, "./cmd/lockd")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=1", "CC="+cc)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("arm64 build: %v\n%s", err, out)
	}
	st, err := os.Stat(bin)
	if err != nil {
		return err
	}
	fmt.Printf("stripped arm64 lockd (cgo, PIE): %d bytes (%.1f MiB)\n", st.Size(), float64(st.Size())/(1<<20))
	return nil
}

// noBus makes lockd run without D-Bus (its keypad path alone), so these
// figures do not depend on a bus being there.
const noBus = "unix:path=/nonexistent/lockbench-bus"

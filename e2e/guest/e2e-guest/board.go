package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"lockd.dev/lockd/internal/config"
)

// boardSock is the board's control socket: one command a connection.
const boardSock = "/run/e2e-board.sock"

// serveBoard makes the chip, sets the world up, and serves commands on
// boardSock until killed.
func serveBoard(args []string) error {
	fs := flag.NewFlagSet("board serve", flag.ContinueOnError)
	cfgPath := fs.String("config", "/etc/lockd/lockd.toml", "lockd's config: the pins")
	bolt := fs.String("bolt", "locked", "where the bolt is at power-on: locked or unlocked")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	if err := sched(unix.SCHED_FIFO); err != nil {
		return err
	}
	c, err := makeChip()
	if err != nil {
		return err
	}
	w, err := newWorld(c, cfg, *bolt == "unlocked")
	if err != nil {
		return err
	}
	go w.watchLines()
	go w.run(2 * time.Millisecond)
	os.Remove(boardSock)
	l, err := net.Listen("unix", boardSock)
	if err != nil {
		return fmt.Errorf("e2e-guest: board: %w", err)
	}
	fmt.Printf("E2E-BOARD-UP %s keypad=%s bolt=%s\n", c.sysfs, cfg.Keypad.Type, *bolt)
	for {
		conn, err := l.Accept()
		if err != nil {
			return fmt.Errorf("e2e-guest: board: %w", err)
		}
		go func() {
			defer conn.Close()
			line, _ := bufio.NewReader(conn).ReadString('\n')
			out, err := w.do(strings.Fields(line))
			if out != "" {
				fmt.Fprintln(conn, out)
			}
			if err != nil {
				fmt.Fprintln(conn, "ERR", err)
				return
			}
			fmt.Fprintln(conn, "OK")
		}()
	}
}

// boardCommand sends one command to the board and prints its output.
func boardCommand(args []string) error {
	conn, err := net.Dial("unix", boardSock)
	if err != nil {
		return fmt.Errorf("e2e-guest: board: %w", err)
	}
	defer conn.Close()
	fmt.Fprintln(conn, strings.Join(args, " "))
	sc := bufio.NewScanner(conn)
	for sc.Scan() {
		switch l := sc.Text(); {
		case l == "OK":
			return nil
		case strings.HasPrefix(l, "ERR "):
			return errors.New(strings.TrimPrefix(l, "ERR "))
		default:
			fmt.Println(l)
		}
	}
	return errors.New("e2e-guest: board: no answer")
}

// hold requests pin of the simulated chip as an input, as another
// program on the lock might, and keeps it until killed.
func hold(pin string) error {
	off, err := offset(pin)
	if err != nil {
		return err
	}
	name, err := os.ReadFile(filepath.Join(simConfigfs, simDevice, "gpio-bank0", "chip_name"))
	if err != nil {
		return fmt.Errorf("e2e-guest: hold: %w", err)
	}
	dev, err := os.Open("/dev/" + strings.TrimSpace(string(name)))
	if err != nil {
		return fmt.Errorf("e2e-guest: hold: %w", err)
	}
	if _, err := requestInput(dev, off, "e2e-hold"); err != nil {
		return fmt.Errorf("e2e-guest: hold %s: %w", pin, err)
	}
	fmt.Printf("E2E-HOLD %s\n", pin)
	if err := os.WriteFile("/run/e2e-held", nil, 0o644); err != nil {
		return fmt.Errorf("e2e-guest: hold: %w", err)
	}
	select {}
}

// sched sets the scheduling policy of every thread of this process (and
// so of every thread it will start: they inherit it). On the guest's one
// emulated CPU it decides who goes first, the world or lockd:
//
//   - SCHED_FIFO, the board's default: when lockd requests or reconfigures
//     a line with a bias, the world drives it again before lockd reads it,
//     as a closed switch beats a pull-up at once on a real board.
//   - SCHED_IDLE while it types on the Wiegand reader: lockd wakes on each
//     edge before the world makes the next, as a real CPU keeps up with a
//     reader's bits; the order of bits on D0 and D1 is then never in doubt.
//   - SCHED_NORMAL while bench polls the H-bridge: neither side first.
func sched(policy uint32) error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return fmt.Errorf("e2e-guest: board: %w", err)
	}
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: policy}
	if policy == unix.SCHED_FIFO {
		attr.Priority = 1
	}
	for _, task := range tasks {
		tid, _ := strconv.Atoi(task.Name())
		if err := unix.SchedSetAttr(tid, &attr, 0); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("e2e-guest: board: scheduling policy %d: %w", policy, err)
		}
	}
	return nil
}

func mount(src, target, fstype string) error {
	if err := unix.Mount(src, target, fstype, 0, ""); err != nil {
		return fmt.Errorf("e2e-guest: mount %s: %w", target, err)
	}
	return nil
}

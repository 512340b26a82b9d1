package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strings"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
)

// The D-Bus attacks of docs/THREATS.md by a member of the read-only group
// lockd, against lockd --sim on a private system-like bus: what lockd's
// descriptors and memory do, and whether it still answers. The attacker
// runs as a separate unprivileged process (setpriv), as it would on a
// unit.

// attackBench runs each attack and prints lockd's descriptor count and
// peak RSS before and after it.
func attackBench(ctx context.Context, bin string) error {
	gid, err := ensureGroup("lockd")
	if err != nil {
		return err
	}
	addr, lockd, stop, err := lockdOnPrivateBus(ctx, bin)
	if err != nil {
		return err
	}
	defer stop()
	self, cleanup, err := exportSelf()
	if err != nil {
		return err
	}
	defer cleanup()
	pid := lockd.Process.Pid
	report := func(what string) (fds int, hwm string, err error) {
		ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		if err != nil {
			return 0, "", err
		}
		hwm, err = statusField(pid, "VmHWM")
		if err != nil {
			return 0, "", err
		}
		rss, _ := statusField(pid, "VmRSS")
		fmt.Printf("attack: %-44s lockd fds %3d, RSS %s, peak RSS %s\n", what, len(ents), rss, hwm)
		return len(ents), hwm, nil
	}
	if _, _, err := report("before"); err != nil {
		return err
	}
	for _, a := range []struct{ name, what string }{
		{"fds", "after 300 GetAll calls with 16 fds each"},
		{"bodies", "after 4x4 parallel Log calls of 30 MiB"},
		{"flood", "after 50 connections x 200 GetAll"},
	} {
		start := time.Now()
		out, err := exec.CommandContext(ctx, "setpriv", "--reuid=65534", "--regid=65534", fmt.Sprintf("--groups=%d", gid),
			self, "-attack-client", addr, "-attack", a.name).CombinedOutput()
		if err != nil {
			return fmt.Errorf("attack %s: %v: %s", a.name, err, out)
		}
		fmt.Printf("attack: %s: %s (%v)\n", a.name, strings.TrimSpace(string(out)), time.Since(start).Round(time.Millisecond))
		if _, _, err := report(a.what); err != nil {
			return err
		}
	}
	state, err := settle(addr)
	if err != nil {
		return fmt.Errorf("after the attacks: %w", err)
	}
	fmt.Printf("attack: lockd still answers and obeys: state %s\n", state)
	return nil
}

// ensureGroup returns the GID of group name, creating it (as
// lockd.sysusers does on a unit) if it is missing.
func ensureGroup(name string) (int, error) {
	if _, err := user.LookupGroup(name); err != nil {
		if out, err := exec.Command("groupadd", "--system", name).CombinedOutput(); err != nil {
			return 0, fmt.Errorf("groupadd %s: %v: %s", name, err, out)
		}
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, err
	}
	var gid int
	_, err = fmt.Sscan(g.Gid, &gid)
	return gid, err
}

// attackClient is the attacker's side (lockbench -attack-client ADDR
// -attack NAME). It prints one line of what lockd answered.
func attackClient(addr, attack string) error {
	switch attack {
	case "fds":
		return fdAttack(addr)
	case "bodies":
		return bodyAttack(addr)
	case "flood":
		return floodAttack(addr)
	}
	return fmt.Errorf("unknown attack %q", attack)
}

// fdAttack sends GetAll with 16 descriptors each: once enough to fill a
// 1024-descriptor table four times over.
func fdAttack(addr string) error {
	c, err := connect(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	var fds []any
	for i := 0; i < 16; i++ {
		f, err := os.Open("/dev/null")
		if err != nil {
			return err
		}
		defer f.Close()
		fds = append(fds, dbus.UnixFD(f.Fd()))
	}
	obj := c.Object(busName, objPath)
	refused := 0
	for i := 0; i < 300; i++ {
		args := append([]any{"io.lockd.Lock1"}, fds...)
		if err := obj.Call("org.freedesktop.DBus.Properties.GetAll", 0, args...).Err; err != nil {
			refused++
		}
	}
	if err := obj.Call("org.freedesktop.DBus.Properties.Get", 0, "io.lockd.Lock1", "State").Err; err != nil {
		return fmt.Errorf("lockd stopped answering after the descriptor flood: %w", err)
	}
	fmt.Printf("300 calls carried 4800 descriptors, %d refused; lockd answers after them", refused)
	return nil
}

// bodyAttack sends 16 Log calls with a 30 MiB string each, four at a time.
func bodyAttack(addr string) error {
	big := strings.Repeat("7", 30<<20)
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := connect(addr)
			if err != nil {
				errs[i] = err
				return
			}
			defer c.Close()
			errs[i] = c.Object(busName, objPath).Call("io.lockd.Codes1.Log", 0, uint64(0), uint32(1), big).Err
		}(i)
		if i%4 == 3 {
			wg.Wait()
		}
	}
	wg.Wait()
	var names []string
	for _, err := range errs {
		var de dbus.Error
		switch {
		case err == nil:
			return errors.New("a 30 MiB Log call succeeded")
		case errors.As(err, &de):
			names = append(names, de.Name)
		default:
			names = append(names, err.Error())
		}
	}
	fmt.Printf("16 calls of 30 MiB refused with %s", strings.Join(dedupe(names), ", "))
	return nil
}

// floodAttack: 50 connections, 200 GetAll each, all at once.
func floodAttack(addr string) error {
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := connect(addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			obj := c.Object(busName, objPath)
			for j := 0; j < 200; j++ {
				var m map[string]dbus.Variant
				if err := obj.Call("org.freedesktop.DBus.Properties.GetAll", 0, "io.lockd.Lock1").Store(&m); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return fmt.Errorf("flood: %w", err)
	}
	fmt.Print("10,000 GetAll calls from 50 connections answered")
	return nil
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

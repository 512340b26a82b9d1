package updater

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// cmdlineArgs splits a kernel command line into its words, as the kernel
// does for the simple cases (no quoting in lockd's words).
func cmdlineArgs(data []byte) map[string][]string {
	args := map[string][]string{}
	for _, w := range strings.Fields(string(data)) {
		k, v, _ := strings.Cut(w, "=")
		args[k] = append(args[k], v)
	}
	return args
}

// bootedSlot reads lockd.slot= from the kernel command line and checks it
// against root= where root= names a device: a unit that cannot tell which
// slot runs must not write either.
func bootedSlot(cmdline []byte, devices map[Slot]string) (Slot, error) {
	args := cmdlineArgs(cmdline)
	vals := args["lockd.slot"]
	if len(vals) == 0 {
		return "", fmt.Errorf("updater: the kernel command line has no lockd.slot= (was this boot started by lockd's boot script?)")
	}
	if len(vals) > 1 {
		return "", fmt.Errorf("updater: the kernel command line has %d lockd.slot= words", len(vals))
	}
	slot, err := ParseSlot(vals[0])
	if err != nil {
		return "", fmt.Errorf("updater: kernel command line lockd.slot=%q: not A or B", vals[0])
	}
	roots := args["root"]
	if len(roots) != 1 {
		return slot, nil // an initramfs root, or none: nothing to compare
	}
	root := roots[0]
	if root == devices[slot.Other()] {
		return "", fmt.Errorf("updater: lockd.slot=%s but root=%s is slot %s's device", slot, root, slot.Other())
	}
	if root == devices[slot] || !strings.HasPrefix(root, "/dev/") {
		return slot, nil // PARTUUID= and the like: nothing to compare
	}
	rdev, ok1 := blockDev(root)
	want, ok2 := blockDev(devices[slot])
	if ok1 && ok2 && rdev != want {
		return "", fmt.Errorf("updater: lockd.slot=%s but root=%s is not slot %s's device %s", slot, root, slot, devices[slot])
	}
	return slot, nil
}

// blockDev returns the device number of a block device node.
func blockDev(path string) (uint64, bool) {
	var st unix.Stat_t
	if path == "" || unix.Stat(path, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return 0, false
	}
	return st.Rdev, true
}

// checkNotInUse refuses a target slot that is the running root or mounted
// anywhere, by device number for block devices and by path for files.
func checkNotInUse(target, mountinfo string) error {
	var st unix.Stat_t
	if err := unix.Stat(target, &st); err != nil {
		return fmt.Errorf("updater: slot %s: %w", target, err)
	}
	isBlock := st.Mode&unix.S_IFMT == unix.S_IFBLK
	if isBlock {
		var root unix.Stat_t
		if err := unix.Stat("/", &root); err == nil && root.Dev == st.Rdev {
			return fmt.Errorf("updater: slot %s is the running root file system", target)
		}
	}
	data, err := os.ReadFile(mountinfo)
	if err != nil {
		return fmt.Errorf("updater: cannot check mounts: %w", err)
	}
	want := fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			continue
		}
		source := ""
		for i, w := range f {
			if w == "-" && i+2 < len(f) {
				source = f[i+2]
				break
			}
		}
		if (isBlock && f[2] == want) || source == target {
			return fmt.Errorf("updater: slot %s is mounted at %s", target, unescapeMount(f[4]))
		}
	}
	return sc.Err()
}

// unescapeMount undoes mountinfo's octal escapes of space, tab, newline
// and backslash.
func unescapeMount(s string) string {
	r := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	return r.Replace(s)
}

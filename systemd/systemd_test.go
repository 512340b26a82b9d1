package systemd_test

import (
	"bufio"
	"bytes"

	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lockd.dev/lockd/internal/testtool"
)

const (
	unitFile = "lockd.service"
	// maxExposure is the worst `systemd-analyze security` score we accept
	// (0 = fully locked down, 10 = unprotected).
	maxExposure = 2.0
	// execStart is the contract with packaging (DESIGN.md): the binary and
	// the config path.
	execStart = "/usr/bin/lockd --config /etc/lockd/lockd.toml"
)

// run runs a command and returns its combined output, failing the test on
// a non-zero exit.
func run(t *testing.T, stdin []byte, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	// No pager, no colours, no locale surprises in what we parse.
	cmd.Env = append(os.Environ(), "SYSTEMD_PAGER=cat", "SYSTEMD_COLORS=0", "LC_ALL=C.UTF-8")
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// serviceSettings returns the [Service] section of a unit file as key ->
// values (a key may repeat).
func serviceSettings(t *testing.T, unit []byte) map[string][]string {
	t.Helper()
	return settings(t, unitFile, unit, "Service")
}

// settings returns one section of an INI-style systemd file (units,
// drop-ins, system.conf) as key -> values (a key may repeat). name is for
// error messages.
func settings(t *testing.T, name string, file []byte, section string) map[string][]string {
	t.Helper()
	m := map[string][]string{}
	in := ""
	sc := bufio.NewScanner(bytes.NewReader(file))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			in = strings.Trim(line, "[]")
		case in == section:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: bad line %q", name, line)
			}
			m[k] = append(m[k], v)
		}
	}
	return m
}

func TestUnitContract(t *testing.T) {
	unit, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	s := serviceSettings(t, unit)
	for k, want := range map[string]string{
		"ExecStart":      execStart,
		"Type":           "notify",
		"NotifyAccess":   "main",
		"BusName":        "io.lockd.Lock1",
		"User":           "lockd",
		"StateDirectory": "lockd",
		"DevicePolicy":   "closed",
		// Bounds a flood or a bug could otherwise push to the machine's
		// (docs/THREATS.md): memory and descriptors.
		"MemoryMax":   "128M",
		"LimitNOFILE": "256",
	} {
		if got := s[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s: %s=%q, want exactly %q", unitFile, k, got, want)
		}
	}
	// ProcSubset=pid would hide /proc/cmdline, where the updater reads
	// lockd.slot=.
	if v := s["ProcSubset"]; len(v) > 0 && v[len(v)-1] == "pid" {
		t.Errorf("%s: ProcSubset=pid hides /proc/cmdline from lockd", unitFile)
	}
}

// TestVerify runs `systemd-analyze verify` on the unit as shipped, for a
// committed boot. trial_test.go verifies it with the trial drop-in.
func TestVerify(t *testing.T) {
	analyze := testtool.Need(t, "systemd-analyze", "systemd")
	dir := t.TempDir()
	path := writeVerifiableUnit(t, dir)
	if out := run(t, nil, analyze, "verify", "--man=no", path); out != "" {
		t.Errorf("systemd-analyze verify %s is not clean:\n%s", unitFile, out)
	}
}

// writeVerifiableUnit writes the unit into dir for `systemd-analyze
// verify` and returns its path. verify also checks that ExecStart's binary
// exists and is executable, and /usr/bin/lockd is not installed where
// tests run, so the copy's ExecStart runs an existing binary (true(1))
// with the same arguments; every other line is as shipped. The copy keeps
// the unit's name: verify derives the unit name, and checks like BusName=,
// from the file name; and it reads drop-ins from dir/lockd.service.d/.
func writeVerifiableUnit(t *testing.T, dir string) string {
	t.Helper()
	trueBin, err := exec.LookPath("true")
	if err != nil {
		t.Fatal(err)
	}
	unit, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	old := []byte("\nExecStart=/usr/bin/lockd ")
	if n := bytes.Count(unit, old); n != 1 {
		t.Fatalf("%s: found %q %d times, want once", unitFile, old, n)
	}
	unit = bytes.Replace(unit, old, []byte("\nExecStart="+trueBin+" "), 1)
	path := filepath.Join(dir, unitFile)
	if err := os.WriteFile(path, unit, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

var overallRE = regexp.MustCompile(`Overall exposure level for \S+: ([0-9]+(?:\.[0-9]+)?)`)

// TestSecurity keeps the unit's exposure score at maxExposure or better.
// --offline=yes analyses the file itself, without a running systemd.
func TestSecurity(t *testing.T) {
	analyze := testtool.Need(t, "systemd-analyze", "systemd")
	out := run(t, nil, analyze, "security", "--offline=yes", "--no-pager", unitFile)
	m := overallRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no overall exposure level in the output of systemd-analyze security:\n%s", out)
	}
	score, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: systemd-analyze security exposure %.1f (limit %.1f)", unitFile, score, maxExposure)
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "✗") {
			t.Log(strings.Join(strings.Fields(line), " "))
		}
	}
	if score > maxExposure {
		t.Errorf("%s: exposure %.1f is worse than %.1f:\n%s", unitFile, score, maxExposure, out)
	}
}

// TestSysusers creates lockd.sysusers' users and groups in an empty root
// and checks that they are the ones the unit runs with.
func TestSysusers(t *testing.T) {
	sysusers := testtool.Need(t, "systemd-sysusers", "systemd")
	conf, err := os.ReadFile("lockd.sysusers")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, conf, sysusers, "--root="+root, "-")

	read := func(name string) map[string][]string { // name -> fields
		b, err := os.ReadFile(filepath.Join(root, "etc", name))
		if err != nil {
			t.Fatal(err)
		}
		m := map[string][]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			f := strings.Split(line, ":")
			m[f[0]] = f
		}
		return m
	}
	passwd, group := read("passwd"), read("group")

	unit, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	s := serviceSettings(t, unit)
	user := s["User"][0]
	if _, ok := passwd[user]; !ok {
		t.Errorf("lockd.sysusers does not create User=%s", user)
	}
	for _, g := range append(s["Group"], strings.Fields(strings.Join(s["SupplementaryGroups"], " "))...) {
		if _, ok := group[g]; !ok {
			t.Errorf("lockd.sysusers does not create group %s used by %s", g, unitFile)
		}
	}
	if _, ok := group["lockd-admin"]; !ok {
		t.Error("lockd.sysusers does not create group lockd-admin (DESIGN.md: D-Bus write access)")
	}
}

// TestTmpfilesFitUnit: lockd.tmpfiles makes the state and runtime
// directories the unit names, with its user, group and modes.
func TestTmpfilesFitUnit(t *testing.T) {
	b, err := os.ReadFile("lockd.tmpfiles")
	if err != nil {
		t.Fatal(err)
	}
	unit, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	s := serviceSettings(t, unit)
	want := map[string]string{ // path -> "type mode user group age"
		"/var/lib/" + s["StateDirectory"][0]: "d " + s["StateDirectoryMode"][0] + " " + s["User"][0] + " " + s["Group"][0] + " -",
		"/run/" + s["RuntimeDirectory"][0]:   "d " + s["RuntimeDirectoryMode"][0] + " " + s["User"][0] + " " + s["Group"][0] + " -",
	}
	got := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) != 6 {
			t.Errorf("lockd.tmpfiles: want 6 fields (type path mode user group age): %q", line)
			continue
		}
		got[f[1]] = strings.Join(append([]string{f[0]}, f[2:]...), " ")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lockd.tmpfiles does not fit %s (-want +got):\n%s", unitFile, diff)
	}
}

// TestTmpfiles creates lockd.tmpfiles' directories in a root that
// lockd.sysusers has populated, with the real tools.
func TestTmpfiles(t *testing.T) {
	testtool.NeedRoot(t, "systemd-tmpfiles --create (chown to user lockd)")
	sysusers := testtool.Need(t, "systemd-sysusers", "systemd")
	tmpfiles := testtool.Need(t, "systemd-tmpfiles", "systemd")
	users, err := os.ReadFile("lockd.sysusers")
	if err != nil {
		t.Fatal(err)
	}
	conf, err := os.ReadFile("lockd.tmpfiles")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, users, sysusers, "--root="+root, "-")
	if out := run(t, conf, tmpfiles, "--create", "--root="+root, "-"); out != "" {
		t.Errorf("systemd-tmpfiles --create lockd.tmpfiles is not clean:\n%s", out)
	}
	id := func(file, name string) uint32 { // uid or gid from root/etc
		b, err := os.ReadFile(filepath.Join(root, "etc", file))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Split(line, ":"); len(f) > 3 && f[0] == name {
				n, err := strconv.ParseUint(f[2], 10, 32)
				if err != nil {
					t.Fatal(err)
				}
				return uint32(n)
			}
		}
		t.Fatalf("%s: no %s", file, name)
		return 0
	}
	uid, gid := id("passwd", "lockd"), id("group", "lockd")
	for _, dir := range []string{"var/lib/lockd", "run/lockd"} {
		fi, err := os.Stat(filepath.Join(root, dir))
		if err != nil {
			t.Error(err)
			continue
		}
		st := fi.Sys().(*syscall.Stat_t)
		if !fi.IsDir() || fi.Mode().Perm() != 0o700 || st.Uid != uid || st.Gid != gid {
			t.Errorf("/%s: %v %d:%d, want a directory 0700 lockd:lockd (%d:%d)", dir, fi.Mode(), st.Uid, st.Gid, uid, gid)
		}
	}
}

const watchdogConf = "50-lockd-watchdog.conf"

// maxWatchdog is the longest hardware watchdog timeout the Raspberry Pi's
// bcm2835_wdt accepts; systemd arms no watchdog at all when the driver
// refuses the timeout.
const maxWatchdog = 15 * time.Second

// TestWatchdogConf: the system.conf.d drop-in sets the runtime and reboot
// watchdogs with keys this systemd knows and values the Pi accepts.
func TestWatchdogConf(t *testing.T) {
	b, err := os.ReadFile(watchdogConf)
	if err != nil {
		t.Fatal(err)
	}
	m := settings(t, watchdogConf, b, "Manager")
	if all := settings(t, watchdogConf, b, ""); len(all) != 0 {
		t.Errorf("%s: settings outside [Manager]: %v", watchdogConf, all)
	}
	for _, k := range []string{"RuntimeWatchdogSec", "RebootWatchdogSec"} {
		if len(m[k]) != 1 {
			t.Errorf("%s: %s=%q, want one value", watchdogConf, k, m[k])
		}
	}

	analyze := testtool.Need(t, "systemd-analyze", "systemd")
	// systemd has no offline check of system.conf. A key it knows is in
	// the manager's table of settings, which is a NUL-terminated string
	// in its binary; a misspelt key is in none and would be ignored.
	var manager []byte
	for _, p := range []string{"/usr/lib/systemd/systemd", "/lib/systemd/systemd"} {
		if manager, err = os.ReadFile(p); err == nil {
			break
		}
	}
	if manager == nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("/usr/lib/systemd/systemd not found, and CI=true forbids skipping: run `make deps` (Debian package systemd)")
		}
		t.Skip("/usr/lib/systemd/systemd not found: install Debian's systemd package (`sudo make deps`) to check the keys")
	}
	usRE := regexp.MustCompile(`μs: ([0-9]+)`)
	for k, v := range m {
		if !bytes.Contains(manager, []byte("\x00"+k+"\x00")) {
			t.Errorf("%s: systemd does not know [Manager] %s=", watchdogConf, k)
		}
		out := run(t, nil, analyze, "timespan", v[len(v)-1])
		mu := usRE.FindStringSubmatch(out)
		if mu == nil {
			t.Errorf("%s: %s=%s: systemd-analyze timespan:\n%s", watchdogConf, k, v, out)
			continue
		}
		us, _ := strconv.ParseInt(mu[1], 10, 64)
		if d := time.Duration(us) * time.Microsecond; d <= 0 || d > maxWatchdog {
			t.Errorf("%s: %s=%s (%v): want 0 < timeout <= %v (bcm2835 maximum)", watchdogConf, k, v, d, maxWatchdog)
		}
	}
}

// TestSlotRules checks that the udev rule hands exactly the shipped
// config's two slot devices to user lockd, and never to group lockd,
// whose members only read lockd's state: a reader must not be able to
// rewrite the root file system.
func TestSlotRules(t *testing.T) {
	rules, err := os.ReadFile("61-lockd-slots.rules")
	if err != nil {
		t.Fatal(err)
	}
	toml, err := os.ReadFile("lockd.toml")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, k := range []string{"slot_a", "slot_b"} {
		m := regexp.MustCompile(`(?m)^` + k + ` = "/dev/([^"]+)"`).FindSubmatch(toml)
		if m == nil {
			t.Fatalf("lockd.toml has no %s = \"/dev/...\"", k)
		}
		want = append(want, string(m[1]))
	}
	var got []string
	for _, line := range strings.Split(string(rules), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.Contains(line, "GROUP=") {
			t.Errorf("rule changes the group (readers' group lockd must not write slots): %s", line)
		}
		if !strings.Contains(line, `OWNER="lockd"`) || !strings.Contains(line, `SUBSYSTEM=="block"`) {
			t.Errorf("rule does not give a block device to user lockd: %s", line)
		}
		m := regexp.MustCompile(`KERNEL=="([^"*?\[]+)"`).FindStringSubmatch(line)
		if m == nil {
			t.Errorf("rule does not name one device exactly: %s", line)
			continue
		}
		got = append(got, m[1])
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("slot devices in the udev rule differ from lockd.toml's slot_a/slot_b (-toml +rules):\n%s", diff)
	}
}

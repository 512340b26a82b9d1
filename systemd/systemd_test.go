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
	"testing"
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

// need returns the path of tool, or skips the test if it is missing. Under
// CI=true a missing tool fails instead: CI installs everything (make deps),
// so a missing tool there is a bug, never a reason to skip.
func need(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found, and CI=true forbids skipping: run `make deps` (Debian package systemd)", tool)
	}
	t.Skipf("%s not found: install Debian's systemd package (`sudo make deps`) to check the unit files", tool)
	return ""
}

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
	m := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(unit))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			section = line
		case section == "[Service]":
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: bad line %q", unitFile, line)
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

// TestVerify runs `systemd-analyze verify` and requires it to print
// nothing. verify also checks that ExecStart's binary exists and is
// executable, and /usr/bin/lockd is not installed where tests run, so the
// test verifies a copy whose ExecStart runs an existing binary (true(1))
// with the same arguments; every other line is checked as shipped.
func TestVerify(t *testing.T) {
	analyze := need(t, "systemd-analyze")
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
	// The copy keeps the unit's name: verify derives the unit name, and
	// checks like BusName=, from the file name.
	path := filepath.Join(t.TempDir(), unitFile)
	if err := os.WriteFile(path, unit, 0o644); err != nil {
		t.Fatal(err)
	}
	if out := run(t, nil, analyze, "verify", "--man=no", path); out != "" {
		t.Errorf("systemd-analyze verify %s is not clean:\n%s", unitFile, out)
	}
}

var overallRE = regexp.MustCompile(`Overall exposure level for \S+: ([0-9]+(?:\.[0-9]+)?)`)

// TestSecurity keeps the unit's exposure score at maxExposure or better.
// --offline=yes analyses the file itself, without a running systemd.
func TestSecurity(t *testing.T) {
	analyze := need(t, "systemd-analyze")
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
	sysusers := need(t, "systemd-sysusers")
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

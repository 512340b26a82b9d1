package systemd_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"lockd.dev/lockd/internal/testtool"
)

// lockd-mqtt.service's contract (DESIGN.md "lockd-mqtt"): its binary and
// config, its own user in group lockd only, the credentials file handed
// over by systemd, the network it needs and nothing of lockd's.
const (
	mqttUnit      = "lockd-mqtt.service"
	mqttExecStart = "/usr/bin/lockd-mqtt --config /etc/lockd/mqtt.toml"
	// mqttCredentials is mqttconf's default credentials_file and
	// mqttconf.CredentialName: lockd-mqtt checks the original's mode and
	// reads the copy.
	mqttCredentials = "mqtt-credentials:/etc/lockd/mqtt-credentials"
)

func TestMQTTUnitContract(t *testing.T) {
	unit, err := os.ReadFile(mqttUnit)
	if err != nil {
		t.Fatal(err)
	}
	s := settings(t, mqttUnit, unit, "Service")
	for k, want := range map[string]string{
		"ExecStart":           mqttExecStart,
		"User":                "lockd-mqtt",
		"SupplementaryGroups": "lockd",
		"LoadCredential":      mqttCredentials,
		"NoNewPrivileges":     "yes",
		"MemoryMax":           "64M",
	} {
		if got := s[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s: %s=%q, want exactly %q", mqttUnit, k, got, want)
		}
	}
	// Remote unlock is off by default: lockd-admin comes only from a
	// drop-in the owner writes.
	for _, k := range []string{"SupplementaryGroups", "Group"} {
		for _, v := range s[k] {
			if strings.Contains(v, "lockd-admin") {
				t.Errorf("%s: %s=%s: lockd-admin belongs in the owner's remote-unlock drop-in", mqttUnit, k, v)
			}
		}
	}
	if v := s["PrivateNetwork"]; len(v) > 0 && v[len(v)-1] == "yes" {
		t.Errorf("%s: PrivateNetwork=yes: lockd-mqtt must reach the broker", mqttUnit)
	}
	fams := strings.Fields(strings.Join(s["RestrictAddressFamilies"], " "))
	for _, f := range []string{"AF_UNIX", "AF_INET", "AF_INET6"} {
		if !slices.Contains(fams, f) {
			t.Errorf("%s: RestrictAddressFamilies lacks %s", mqttUnit, f)
		}
	}
	// lockd keeps its network off and the GPIO to itself.
	lockd, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	if v := serviceSettings(t, lockd)["PrivateNetwork"]; len(v) != 1 || v[0] != "yes" {
		t.Errorf("%s: PrivateNetwork=%q; lockd-mqtt is the only part on the network", unitFile, v)
	}
	if v := s["PrivateDevices"]; len(v) != 1 || v[0] != "yes" {
		t.Errorf("%s: PrivateDevices=%q, want yes: no GPIO for lockd-mqtt", mqttUnit, v)
	}
}

// TestMQTTVerify runs `systemd-analyze verify` on the unit (ExecStart's
// binary replaced by true(1), which verify needs to exist).
func TestMQTTVerify(t *testing.T) {
	analyze := testtool.Need(t, "systemd-analyze", "systemd")
	trueBin, err := exec.LookPath("true")
	if err != nil {
		t.Fatal(err)
	}
	unit, err := os.ReadFile(mqttUnit)
	if err != nil {
		t.Fatal(err)
	}
	old := "\nExecStart=/usr/bin/lockd-mqtt "
	if n := strings.Count(string(unit), old); n != 1 {
		t.Fatalf("%s: found %q %d times, want once", mqttUnit, old, n)
	}
	path := filepath.Join(t.TempDir(), mqttUnit)
	if err := os.WriteFile(path, []byte(strings.Replace(string(unit), old, "\nExecStart="+trueBin+" ", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := run(t, nil, analyze, "verify", "--man=no", path); out != "" {
		t.Errorf("systemd-analyze verify %s is not clean:\n%s", mqttUnit, out)
	}
}

// TestMQTTSecurity keeps the unit's exposure at maxExposure or better.
func TestMQTTSecurity(t *testing.T) {
	analyze := testtool.Need(t, "systemd-analyze", "systemd")
	out := run(t, nil, analyze, "security", "--offline=yes", "--no-pager", mqttUnit)
	m := overallRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no overall exposure level in:\n%s", out)
	}
	score, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: systemd-analyze security exposure %.1f (limit %.1f)", mqttUnit, score, maxExposure)
	if score > maxExposure {
		t.Errorf("%s: exposure %.1f is worse than %.1f:\n%s", mqttUnit, score, maxExposure, out)
	}
}

// TestMQTTSysusers: after lockd.sysusers, lockd-mqtt.sysusers makes user
// lockd-mqtt, a member of lockd and not of lockd-admin.
func TestMQTTSysusers(t *testing.T) {
	sysusers := testtool.Need(t, "systemd-sysusers", "systemd")
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"lockd.sysusers", "lockd-mqtt.sysusers"} {
		conf, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		run(t, conf, sysusers, "--root="+root, "-")
	}
	passwd, err := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(passwd), "\nlockd-mqtt:") && !strings.HasPrefix(string(passwd), "lockd-mqtt:") {
		t.Fatalf("no user lockd-mqtt:\n%s", passwd)
	}
	group, err := os.ReadFile(filepath.Join(root, "etc/group"))
	if err != nil {
		t.Fatal(err)
	}
	members := map[string][]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(group)), "\n") {
		f := strings.Split(l, ":")
		if len(f) == 4 && f[3] != "" {
			members[f[0]] = strings.Split(f[3], ",")
		}
	}
	if !slices.Contains(members["lockd"], "lockd-mqtt") {
		t.Errorf("lockd-mqtt is not in group lockd: %v", members)
	}
	if slices.Contains(members["lockd-admin"], "lockd-mqtt") {
		t.Errorf("lockd-mqtt is in lockd-admin by default: remote unlock must be the owner's choice")
	}
}

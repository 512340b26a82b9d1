package systemd_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lockd.dev/lockd/internal/testtool"
)

// TestFleetDropIn checks the drop-in the README gives for fleet updates
// (hawkBit or URL installs need the network lockd's unit keeps closed):
// systemd-analyze verify takes the unit with it, and it undoes each of the
// unit's network bars (PrivateNetwork=, RestrictAddressFamilies= and
// IPAddressDeny=any, which alone would drop every packet) while handing
// over the token file as a credential.
func TestFleetDropIn(t *testing.T) {
	analyze := testtool.Need(t, "systemd-analyze", "systemd")
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const start = "cat > /etc/systemd/system/lockd.service.d/50-fleet.conf <<'CONF'\n"
	_, rest, ok := strings.Cut(string(readme), start)
	if !ok {
		t.Fatalf("README.md has no %q", strings.TrimSpace(start))
	}
	dropIn, _, ok := strings.Cut(rest, "\nCONF\n")
	if !ok {
		t.Fatal("README.md: the fleet drop-in has no CONF end line")
	}
	s := settings(t, "README.md's 50-fleet.conf", []byte(dropIn), "Service")
	for k, want := range map[string]string{
		"PrivateNetwork": "no",
		"IPAddressDeny":  "",
		"LoadCredential": "hawkbit-token:/etc/lockd/hawkbit-token",
	} {
		if got := s[k]; len(got) != 1 || got[0] != want {
			t.Errorf("fleet drop-in: %s=%q, want exactly %q", k, got, want)
		}
	}
	if af := s["RestrictAddressFamilies"]; len(af) != 1 || !strings.Contains(af[0], "AF_INET") {
		t.Errorf("fleet drop-in: RestrictAddressFamilies=%q lacks AF_INET", af)
	}
	dir := t.TempDir()
	path := writeVerifiableUnit(t, dir)
	if err := os.MkdirAll(filepath.Join(dir, unitFile+".d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, unitFile+".d", "50-fleet.conf"), []byte(dropIn+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := run(t, nil, analyze, "verify", "--man=no", path); out != "" {
		t.Errorf("systemd-analyze verify with the fleet drop-in is not clean:\n%s", out)
	}
}

package systemd_test

import (
	"bytes"
	"io/fs"

	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lockd.dev/lockd/internal/testtool"
)

// installed is what `make install` puts under DESTDIR with PREFIX=/usr:
// path -> source (relative to the repository; "" for a fake binary) and
// mode.
var installed = map[string]struct {
	src  string
	mode fs.FileMode
}{
	"usr/bin/lockd":                                           {"", 0o755},
	"usr/bin/lockctl":                                         {"", 0o755},
	"usr/bin/lockd-mqtt":                                      {"", 0o755},
	"usr/lib/systemd/system/lockd-mqtt.service":               {"systemd/lockd-mqtt.service", 0o644},
	"usr/lib/sysusers.d/lockd-mqtt.conf":                      {"systemd/lockd-mqtt.sysusers", 0o644},
	"etc/lockd/mqtt.toml":                                     {"systemd/mqtt.toml", 0o644},
	"usr/lib/systemd/system/lockd.service":                    {"systemd/lockd.service", 0o644},
	"usr/lib/systemd/system-generators/lockd-trial-generator": {"systemd/lockd-trial-generator", 0o755},
	"usr/lib/systemd/system.conf.d/50-lockd-watchdog.conf":    {"systemd/50-lockd-watchdog.conf", 0o644},
	"usr/share/dbus-1/system.d/io.lockd.Lock1.conf":           {"systemd/io.lockd.Lock1.conf", 0o644},
	"usr/share/dbus-1/system-services/io.lockd.Lock1.service": {"systemd/io.lockd.Lock1.service", 0o644},
	"usr/share/dbus-1/interfaces/io.lockd.Lock1.xml":          {"systemd/io.lockd.Lock1.xml", 0o644},
	"usr/lib/sysusers.d/lockd.conf":                           {"systemd/lockd.sysusers", 0o644},
	"usr/lib/tmpfiles.d/lockd.conf":                           {"systemd/lockd.tmpfiles", 0o644},
	"usr/lib/udev/rules.d/60-lockd-gpio.rules":                {"systemd/60-lockd-gpio.rules", 0o644},
	"usr/lib/udev/rules.d/61-lockd-slots.rules":               {"systemd/61-lockd-slots.rules", 0o644},
	"usr/share/polkit-1/rules.d/50-lockd-reboot.rules":        {"systemd/50-lockd-reboot.rules", 0o644},
	"usr/share/bash-completion/completions/lockctl":           {"systemd/lockctl.bash-completion", 0o644},
	"usr/share/doc/lockd/DESIGN.md":                           {"docs/DESIGN.md", 0o644},
	"usr/share/doc/lockd/LICENSE":                             {"LICENSE", 0o644},
	"usr/share/doc/lockd/NOTICE":                              {"NOTICE", 0o644},
	"usr/share/doc/lockd/third-party-licenses.md":             {"docs/third-party-licenses.md", 0o644},
	"etc/lockd/lockd.toml":                                    {"systemd/lockd.toml", 0o644},
	"etc/fw_env.config":                                       {"systemd/fw_env.config", 0o644},
}

// makeInstall runs `make install` in the repository with fake binaries
// (BIN=), so no Go build runs, and returns its output.
func makeInstall(t *testing.T, vars ...string) string {
	t.Helper()
	mk := testtool.Need(t, "make", "make")
	bin := t.TempDir()
	for _, b := range []string{"lockd", "lockctl", "lockd-mqtt"} {
		if err := os.WriteFile(filepath.Join(bin, b), []byte("#!/bin/sh\n# fake "+b+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(mk, append([]string{"-C", "..", "install", "BIN=" + bin}, vars...)...)
	// Under `make test` the parent make's flags and command-line variables
	// reach us through the environment; keep them out.
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "MAKEFLAGS", "MFLAGS", "GNUMAKEFLAGS", "MAKELEVEL", "DESTDIR", "PREFIX", "BIN", "SYSCONFDIR":
		default:
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make install %s: %v\n%s", strings.Join(vars, " "), err, out)
	}
	return string(out)
}

// tree returns every file under root: relative path -> mode.
func tree(t *testing.T, root string) map[string]fs.FileMode {
	t.Helper()
	m := map[string]fs.FileMode{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		m[rel] = fi.Mode()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMakeInstall(t *testing.T) {
	destdir := t.TempDir()
	makeInstall(t, "DESTDIR="+destdir, "PREFIX=/usr")

	want := map[string]fs.FileMode{}
	for p, f := range installed {
		want[p] = f.mode
	}
	if diff := cmp.Diff(want, tree(t, destdir)); diff != "" {
		t.Errorf("make install: files and modes (-want +got):\n%s", diff)
	}
	for p, f := range installed {
		if f.src == "" {
			continue
		}
		src, err := os.ReadFile(filepath.Join("..", f.src))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(destdir, p))
		if err != nil {
			continue // reported above
		}
		if !bytes.Equal(got, src) {
			t.Errorf("make install: %s differs from %s", p, f.src)
		}
	}

	// A second install keeps the configuration the owner edited.
	edited := []byte("# edited on the unit\n")
	confs := []string{"etc/lockd/lockd.toml", "etc/fw_env.config"}
	for _, c := range confs {
		if err := os.WriteFile(filepath.Join(destdir, c), edited, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := makeInstall(t, "DESTDIR="+destdir)
	for _, c := range confs {
		if got, _ := os.ReadFile(filepath.Join(destdir, c)); !bytes.Equal(got, edited) {
			t.Errorf("a second make install overwrote the edited %s; output:\n%s", c, out)
		}
	}
}

// TestMakeInstallPrefix: with another PREFIX the unit runs the lockd that
// was installed, not /usr/bin/lockd.
func TestMakeInstallPrefix(t *testing.T) {
	destdir := t.TempDir()
	makeInstall(t, "DESTDIR="+destdir, "PREFIX=/usr/local")
	if _, err := os.Stat(filepath.Join(destdir, "usr/local/bin/lockd")); err != nil {
		t.Error(err)
	}
	unit, err := os.ReadFile(filepath.Join(destdir, "usr/local/lib/systemd/system", unitFile))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(execStart, "/usr/bin/", "/usr/local/bin/", 1)
	if got := serviceSettings(t, unit)["ExecStart"]; len(got) != 1 || got[0] != want {
		t.Errorf("PREFIX=/usr/local: ExecStart=%q, want %q", got, want)
	}
}

// TestDocumentationInstalled: every file:// page the units name in
// Documentation= is a file `make install` puts there, so `systemctl help
// lockd` finds it.
func TestDocumentationInstalled(t *testing.T) {
	destdir := t.TempDir()
	makeInstall(t, "DESTDIR="+destdir, "PREFIX=/usr")
	unit, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	docs := documentation(unit)
	if len(docs) == 0 {
		t.Fatalf("%s names no Documentation= file", unitFile)
	}
	for _, p := range docs {
		if _, err := os.Stat(filepath.Join(destdir, p)); err != nil {
			t.Errorf("%s: Documentation=file://%s is not installed by make install: %v", unitFile, p, err)
		}
	}
}

// documentation returns the paths of the file:// URIs of every
// Documentation= line of a unit.
func documentation(unit []byte) []string {
	var paths []string
	for _, l := range strings.Split(string(unit), "\n") {
		v, ok := strings.CutPrefix(strings.TrimSpace(l), "Documentation=")
		if !ok {
			continue
		}
		for _, u := range strings.Fields(v) {
			if p, ok := strings.CutPrefix(u, "file://"); ok {
				paths = append(paths, p)
			}
		}
	}
	return paths
}

package bundle

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run runs the CLI and returns its exit status and output.
func run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCLI(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	image := testImage(200<<10, 5)
	if err := os.WriteFile(p("rootfs.ext4"), image, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(p("keys"), 0o755)
	os.Mkdir(p("otherkeys"), 0o755)
	os.Mkdir(p("testkeys"), 0o755)
	mustRun := func(want int, args ...string) string {
		t.Helper()
		code, out, errs := run(args...)
		if code != want {
			t.Fatalf("lockd bundle %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out, errs)
		}
		return out + errs
	}
	mustRun(0, "keygen", "-o", p("keys/release"))
	mustRun(0, "keygen", "-o", p("otherkeys/other"))
	if out := mustRun(1, "keygen", "-o", p("keys/release")); !strings.Contains(out, "refusing to overwrite") {
		t.Errorf("keygen over an existing key: %s", out)
	}
	os.Rename(p("keys/release.key"), p("release.key")) // private keys do not belong with trusted keys

	for _, c := range []string{"zstd", "none"} {
		b := p("update-" + c + ".bundle")
		out := mustRun(0, "create", "--key", p("release.key"), "--compatible", "acme,lock-rev2",
			"--version", "2.1.0", "--security-version", "4", "--compression", c, p("rootfs.ext4"), "-o", b)
		if !strings.Contains(out, "wrote "+b) {
			t.Errorf("create: %s", out)
		}
		out = mustRun(0, "inspect", b)
		for _, want := range []string{"compatible:       acme,lock-rev2", "version:          2.1.0",
			"security_version: 4", "compression:      " + c, "key id", "not verified"} {
			if !strings.Contains(out, want) {
				t.Errorf("inspect %s: no %q in\n%s", c, want, out)
			}
		}
		if out := mustRun(0, "verify", "--keys", p("keys"), b); !strings.HasPrefix(out, "OK ") {
			t.Errorf("verify: %s", out)
		}
		if out := mustRun(1, "verify", "--keys", p("otherkeys"), b); !strings.Contains(out, "unknown key") {
			t.Errorf("verify with other keys: %s", out)
		}
	}

	// A padded bundle: inspect and verify both refuse it.
	b, _ := os.ReadFile(p("update-zstd.bundle"))
	os.WriteFile(p("padded.bundle"), append(b, 0), 0o644)
	if out := mustRun(1, "inspect", p("padded.bundle")); !strings.Contains(out, "padded") {
		t.Errorf("inspect padded: %s", out)
	}
	if out := mustRun(1, "verify", "--keys", p("keys"), p("padded.bundle")); !strings.Contains(out, "trailing data") {
		t.Errorf("verify padded: %s", out)
	}

	// A signed bundle whose zstd stream ends in a skippable frame: the
	// decoder would skip it, but a unit refuses it, and so does verify.
	if err := WriteKeyPair(p("testkeys/test"), testKey(1)); err != nil {
		t.Fatal(err)
	}
	small := testImage(2<<10, 6)
	os.WriteFile(p("skippable.bundle"), signStored(t, small, cat(encodeZstd(t, small, -1), skippable)), 0o644)
	if out := mustRun(1, "verify", "--keys", p("testkeys"), p("skippable.bundle")); !strings.Contains(out, "skippable frame") {
		t.Errorf("verify skippable: %s", out)
	}

	// No partial or temporary files are left by a failed create.
	mustRun(1, "create", "--key", p("release.key"), "--compatible", "c", "--version", "1.0.0", p("missing"), "-o", p("x.bundle"))
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || e.Name() == "x.bundle" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	// A world-readable private key is refused.
	os.Chmod(p("release.key"), 0o644)
	mustRun(1, "create", "--key", p("release.key"), "--compatible", "c", "--version", "1.0.0", p("rootfs.ext4"), "-o", p("x.bundle"))
}

func TestCLIUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"keygen"},
		{"keygen", "-o", "k", "extra"},
		{"create", "img", "-o", "b"},
		{"create", "--key", "k", "--compatible", "c", "--version", "1.0", "img", "-o", "b"},
		{"create", "--key", "k", "--compatible", "c", "--version", "1.0.0", "--compression", "xz", "img", "-o", "b"},
		{"create", "--key", "k", "--compatible", "c d", "--version", "1.0.0", "img", "-o", "b"},
		{"create", "--key", "k", "--compatible", "c", "--version", "1.0.0", "--security-version", "-1", "img", "-o", "b"},
		{"inspect"},
		{"inspect", "a", "b"},
		{"verify", "b"},
		{"verify", "--keys"},
		{"verify", "--nope", "x", "b"},
	} {
		if code, _, errs := run(args...); code != 2 || !strings.Contains(errs, "usage:") {
			t.Errorf("%q: exit %d, stderr %q; want 2 and usage", args, code, errs)
		}
	}
	if code, out, _ := run("help"); code != 0 || !strings.Contains(out, "lockd bundle keygen") {
		t.Errorf("help: exit %d, %q", code, out)
	}
}

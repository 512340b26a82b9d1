package e2e

import (
	"bytes"
	"debug/elf"
	"fmt"

	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"lockd.dev/lockd/internal/testtool"
)

// The Debian side of the rig: the guest's arm64 packages, fetched with apt
// into the cache, unpacked, and the kernel modules the initramfs needs.

// aptArgs run apt on a private state and cache directory for arm64, so
// the host needs no multiarch set-up (no dpkg --add-architecture): the
// host's sources and keyrings, arm64 package lists of the rig's own.
func aptArgs(t testing.TB) []string {
	t.Helper()
	a := filepath.Join(cacheDir(t), "apt")
	for _, d := range []string{"lists/partial", "cache/archives/partial"} {
		if err := os.MkdirAll(filepath.Join(a, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if !exists(filepath.Join(a, "status")) {
		writeFile(t, filepath.Join(a, "status"), nil, 0o644)
	}
	args := []string{"-q", "-o", "APT::Architecture=arm64", "-o", "APT::Architectures::=arm64",
		"-o", "Dir::State::Lists=" + filepath.Join(a, "lists"), "-o", "Dir::State::status=" + filepath.Join(a, "status"),
		"-o", "Dir::Cache=" + filepath.Join(a, "cache"), "-o", "Acquire::Languages=none",
		"-o", "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false",
		"-o", "Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false",
		"-o", "Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false",
		"-o", "Acquire::IndexTargets::deb::CNF::DefaultEnabled=false"}
	if os.Geteuid() == 0 {
		// Downloads into the rig's cache: apt's _apt user may not write there.
		args = append(args, "-o", "APT::Sandbox::User=root")
	}
	return args
}

// fetchDebs downloads the guest's packages once; later runs use the
// cached files without touching the network.
func fetchDebs(t testing.TB) []string {
	t.Helper()
	dir := filepath.Join(cacheDir(t), "debs")
	manifest := filepath.Join(dir, "manifest")
	// The kernel and its headers are resolved at fetch time; the words
	// after the packages say which were fetched with them.
	want := strings.Join(guestDebs, " ") + " +kernel +headers"
	if b, err := os.ReadFile(manifest); err == nil {
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) > 1 && lines[0] == want {
			files := lines[1:]
			ok := true
			for _, f := range files {
				ok = ok && exists(filepath.Join(dir, f))
			}
			if ok {
				return prefix(dir, files)
			}
		}
	}
	aptGet := testtool.Need(t, "apt-get", "apt")
	aptCache := testtool.Need(t, "apt-cache", "apt")
	start := time.Now()
	args := aptArgs(t)
	if out, err := exec.Command(aptGet, append(args, "update")...).CombinedOutput(); err != nil {
		msg := fmt.Sprintf("apt-get update (arm64 lists for the guest's packages): %v\n%s", err, out)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip("cannot fetch the guest's Debian packages, and none are cached: " + msg)
	}
	out := run(t, aptCache, append(args, "depends", "linux-image-arm64")...)
	m := regexp.MustCompile(`Depends: (linux-image-[0-9][^\s]*-arm64)\b`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("apt-cache depends linux-image-arm64: no kernel package:\n%s", out)
	}
	// The kernel's headers are fetched with it: the rig builds gpio-sim
	// for it (gpiosim_test.go).
	pkgs := append(slices.Clone(guestDebs), string(m[1]))
	pkgs = append(pkgs, headerPackages(string(m[1]))...)
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(aptGet, append(args, append([]string{"download"}, pkgs...)...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("apt-get download %v: %v\n%s", pkgs, err, out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.deb"))
	if len(files) != len(pkgs) {
		t.Fatalf("apt-get download: %d packages, got %d files: %v", len(pkgs), len(files), files)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	writeFile(t, manifest, []byte(want+"\n"+strings.Join(names, "\n")+"\n"), 0o644)
	t.Logf("fetched %d arm64 packages (%s) in %.1f s", len(pkgs), m[1], time.Since(start).Seconds())
	return files
}

func prefix(dir string, names []string) []string {
	var out []string
	for _, n := range names {
		out = append(out, filepath.Join(dir, n))
	}
	return out
}

// debRoot is the packages extracted into one tree (dpkg-deb -x).
func debRoot(t testing.TB, debs []string) string {
	t.Helper()
	h := newHasher()
	for _, d := range debs {
		h.str(filepath.Base(d))
	}
	return cached(t, "debroot", h.sum(), func(dir string) {
		for _, d := range debs {
			run(t, testtool.Need(t, "dpkg-deb", "dpkg"), "-x", d, dir)
		}
	})
}

// kernelFiles finds the kernel image and module tree in the debroot.
func kernelFiles(t testing.TB, root string) (image, modDir string) {
	t.Helper()
	imgs, _ := filepath.Glob(filepath.Join(root, "boot", "vmlinuz-*-arm64"))
	if len(imgs) != 1 {
		t.Fatalf("debroot: want one arm64 kernel, found %v", imgs)
	}
	ver := strings.TrimPrefix(filepath.Base(imgs[0]), "vmlinuz-")
	return imgs[0], filepath.Join(root, "lib", "modules", ver)
}

// moduleOrder is mods and what they depend on (.modinfo depends=), each
// after its dependencies, as paths relative to modDir.
func moduleOrder(t testing.TB, modDir string, mods []string) []string {
	t.Helper()
	where := map[string]string{}
	if err := filepath.Walk(modDir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".ko") {
			name := strings.TrimSuffix(filepath.Base(p), ".ko")
			rel, _ := filepath.Rel(modDir, p)
			where[strings.ReplaceAll(name, "-", "_")] = rel
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var order []string
	seen := map[string]bool{}
	var visit func(string)
	visit = func(name string) {
		name = strings.ReplaceAll(name, "-", "_")
		if seen[name] {
			return
		}
		seen[name] = true
		rel, ok := where[name]
		if !ok {
			t.Fatalf("kernel module %s not found under %s (built in? then drop it from kernelModules)", name, modDir)
		}
		for _, d := range modDepends(t, filepath.Join(modDir, rel)) {
			visit(d)
		}
		order = append(order, rel)
	}
	for _, m := range mods {
		visit(m)
	}
	return order
}

// modDepends reads depends= from a module's .modinfo section.
func modDepends(t testing.TB, path string) []string {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := f.Section(".modinfo")
	if s == nil {
		t.Fatalf("%s: no .modinfo", path)
	}
	data, err := s.Data()
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range bytes.Split(data, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte("depends=")); ok && len(v) > 0 {
			return strings.Split(string(v), ",")
		}
	}
	return nil
}

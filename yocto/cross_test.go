package yocto

import (
	"debug/elf"

	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"lockd.dev/lockd/internal/testtool"
)

// TestCrossBuildArm64PIE builds lockd and lockctl as lockd_git.bb does for
// a 64-bit Pi: linux/arm64, cgo on (go-sqlite3 compiles SQLite with the
// cross compiler), -buildmode=pie (go.bbclass adds it), -trimpath; then
// checks each binary is an arm64 position-independent executable with
// SQLite linked in.
func TestCrossBuildArm64PIE(t *testing.T) {
	cc := testtool.Need(t, "aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu")
	goTool := testtool.Need(t, "go", "golang (or https://go.dev/dl)")
	out := t.TempDir()
	cmd := exec.Command(goTool, "build", "-trimpath", "-buildmode=pie", "-o", out+"/", "./cmd/lockd", "./cmd/lockctl")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=1", "CC="+cc, "GOFLAGS=-mod=readonly")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, b)
	}
	for _, name := range []string{"lockd", "lockctl"} {
		f, err := elf.Open(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if f.Machine != elf.EM_AARCH64 || f.Class != elf.ELFCLASS64 {
			t.Errorf("%s: %v %v, want EM_AARCH64 ELFCLASS64", name, f.Machine, f.Class)
		}
		// A PIE is ET_DYN with a program interpreter (a shared library has none).
		interp := false
		for _, p := range f.Progs {
			interp = interp || p.Type == elf.PT_INTERP
		}
		if f.Type != elf.ET_DYN || !interp {
			t.Errorf("%s: type %v, interpreter %v: not a PIE", name, f.Type, interp)
		}
		if flags, err := f.DynValue(elf.DT_FLAGS_1); err != nil || len(flags) == 0 || flags[0]&uint64(elf.DF_1_PIE) == 0 {
			t.Errorf("%s: DT_FLAGS_1 = %v (%v), want DF_1_PIE", name, flags, err)
		}
		if name != "lockd" {
			continue
		}
		syms, err := f.Symbols()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(syms, func(s elf.Symbol) bool { return s.Name == "sqlite3_open_v2" }) {
			t.Errorf("%s: no sqlite3_open_v2: SQLite was not compiled in (cgo off?)", name)
		}
	}
}

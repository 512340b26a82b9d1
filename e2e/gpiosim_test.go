package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"lockd.dev/lockd/internal/testtool"
)

// The kernel's own GPIO simulator for the guest. Debian's arm64 kernel
// has the GPIO character device (GPIO_CDEV) but neither GPIO_SIM nor
// GPIO_MOCKUP, so the rig builds drivers/gpio/gpio-sim.c as an
// out-of-tree module for exactly the guest's kernel: against that
// kernel's linux-headers (its .config and Module.symvers, fetched for
// arm64 with the guest's packages) with Debian's cross gcc, from the
// host's linux-source-6.1 and with the host's linux-kbuild-6.1 (fixdep,
// modpost: host programs). The kernel lacks IRQ_SIM too, which gpio-sim
// needs, so kernel/irq/irq_sim.c is linked into the same module.

// irqSimPatch is the one change to the kernel's sources: irq_sim.c, being
// built in, calls irq_to_desc(), which the kernel does not export to
// modules. generic_handle_domain_irq() (exported) looks the interrupt up
// the same way and runs the flow handler irq_sim's map set,
// handle_simple_irq(): the same call, reached through an exported door.
var irqSimPatch = [2]string{
	"\t\tirqnum = irq_find_mapping(work_ctx->domain, offset);\n\t\thandle_simple_irq(irq_to_desc(irqnum));\n",
	"\t\tgeneric_handle_domain_irq(work_ctx->domain, offset);\n",
}

// gpioSimKbuild builds one module, gpio-sim.ko, of the driver and the
// interrupt simulator. The driver's file is renamed: a module's own name
// cannot also be one of its objects.
const gpioSimKbuild = "obj-m := gpio-sim.o\ngpio-sim-y := gpio-sim-drv.o irq_sim.o\n"

// kernelSource is the host's Debian linux-source tarball for the guest's
// kernel series (6.1 for "6.1.0-57-arm64").
func kernelSource(t testing.TB, release string) (tarball, version string) {
	t.Helper()
	m := regexp.MustCompile(`^(\d+\.\d+)\.`).FindStringSubmatch(release)
	if m == nil {
		t.Fatalf("kernel release %q: no series", release)
	}
	pkg := "linux-source-" + m[1]
	tarball = testtool.NeedFile(t, "/usr/src/"+pkg+".tar.xz", pkg)
	out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", pkg).Output()
	if err != nil {
		t.Fatalf("dpkg-query %s: %v", pkg, err)
	}
	return tarball, string(out)
}

// buildGPIOSim returns gpio-sim.ko for the kernel of release (as in
// /lib/modules), built from the header packages headerDebs, cached by
// every input: the packages, the host's source and kbuild, the compiler,
// the patch and the Kbuild file.
func buildGPIOSim(t testing.TB, release string, headerDebs []string) string {
	t.Helper()
	cc := testtool.Need(t, "aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu")
	strip := testtool.Need(t, "aarch64-linux-gnu-strip", "binutils-aarch64-linux-gnu")
	testtool.Need(t, "make", "make")
	testtool.Need(t, "xz", "xz-utils")
	src, srcVersion := kernelSource(t, release)
	series := strings.Join(strings.SplitN(release, ".", 3)[:2], ".")
	kbuild := testtool.NeedFile(t, "/usr/lib/linux-kbuild-"+series+"/scripts/mod/modpost", "linux-kbuild-"+series)
	ccVersion, err := exec.Command(cc, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", cc, err)
	}
	h := newHasher().str(release, srcVersion, string(ccVersion), gpioSimKbuild, irqSimPatch[0], irqSimPatch[1]).file(t, kbuild)
	for _, d := range headerDebs {
		h.str(filepath.Base(d))
	}
	dir := cached(t, "gpio-sim", h.sum(), func(dir string) {
		root := filepath.Join(dir, "root")
		for _, d := range headerDebs {
			run(t, testtool.Need(t, "dpkg-deb", "dpkg"), "-x", d, root)
		}
		// The headers name the host's kbuild by a relative link
		// (scripts -> ../../lib/linux-kbuild-6.1/scripts) and their
		// common half by an absolute include: both made to point here.
		os.MkdirAll(filepath.Join(root, "usr/lib"), 0o755)
		if err := os.Symlink("/usr/lib/linux-kbuild-"+series, filepath.Join(root, "usr/lib/linux-kbuild-"+series)); err != nil {
			t.Fatal(err)
		}
		kdir := filepath.Join(root, "usr/src/linux-headers-"+release)
		mk, err := os.ReadFile(filepath.Join(kdir, "Makefile"))
		if err != nil {
			t.Fatal(err)
		}
		fixed := strings.ReplaceAll(string(mk), "include /usr/src/", "include "+filepath.Join(root, "usr/src")+"/")
		if fixed == string(mk) {
			t.Fatalf("%s/Makefile includes no /usr/src/ Makefile:\n%s", kdir, mk)
		}
		writeFile(t, filepath.Join(kdir, "Makefile"), []byte(fixed), 0o644)

		mod := filepath.Join(dir, "mod")
		os.MkdirAll(mod, 0o755)
		top := "linux-source-" + series
		run(t, "tar", "-xJf", src, "-C", mod, "--strip-components=3",
			top+"/drivers/gpio/gpio-sim.c", top+"/drivers/gpio/gpiolib.h", top+"/kernel/irq/irq_sim.c")
		if err := os.Rename(filepath.Join(mod, "gpio-sim.c"), filepath.Join(mod, "gpio-sim-drv.c")); err != nil {
			t.Fatal(err)
		}
		irqSim := filepath.Join(mod, "irq_sim.c")
		b, err := os.ReadFile(irqSim)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), irqSimPatch[0]); n != 1 {
			t.Fatalf("%s's irq_sim.c: the irq_to_desc() call to replace occurs %d times, want once", top, n)
		}
		writeFile(t, irqSim, []byte(strings.Replace(string(b), irqSimPatch[0], irqSimPatch[1], 1)), 0o644)
		writeFile(t, filepath.Join(mod, "Kbuild"), []byte(gpioSimKbuild), 0o644)

		// Debian's headers say CC = $(CROSS_COMPILE)gcc-12: the compiler
		// the kernel was built with, which gcc-aarch64-linux-gnu is.
		run(t, "make", "-s", "-C", kdir, "M="+mod, "CROSS_COMPILE=aarch64-linux-gnu-", "modules")
		run(t, strip, "--strip-debug", "-o", filepath.Join(dir, "gpio-sim.ko"), filepath.Join(mod, "gpio-sim.ko"))
		os.RemoveAll(root)
		os.RemoveAll(mod)
		t.Logf("gpio-sim.ko for %s from %s %s", release, filepath.Base(src), srcVersion)
	})
	return filepath.Join(dir, "gpio-sim.ko")
}

// kernelRelease is the guest kernel's release, as under /lib/modules.
func kernelRelease(t testing.TB, root string) string {
	t.Helper()
	_, modDir := kernelFiles(t, root)
	return filepath.Base(modDir)
}

// headerPackages are the header packages of the kernel package kpkg
// (linux-image-6.1.0-57-arm64): the flavour's and the common half.
func headerPackages(kpkg string) []string {
	abi := strings.TrimSuffix(strings.TrimPrefix(kpkg, "linux-image-"), "-arm64")
	return []string{"linux-headers-" + abi + "-arm64", "linux-headers-" + abi + "-common"}
}

// splitHeaders separates the header packages from the guest's packages.
func splitHeaders(debs []string) (guest, headers []string) {
	for _, d := range debs {
		if strings.HasPrefix(filepath.Base(d), "linux-headers-") {
			headers = append(headers, d)
		} else {
			guest = append(guest, d)
		}
	}
	return guest, headers
}

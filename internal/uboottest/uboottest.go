// Package uboottest holds what the tests that run Debian's qemu_arm64
// U-Boot under QEMU share (yocto/ for the boot script, e2e/ for the whole
// boot chain): its built-in environment and its flash images.
package uboottest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
)

// Bin is Debian's u-boot-qemu build for QEMU's arm64 virt board.
const Bin = "/usr/lib/u-boot/qemu_arm64/u-boot.bin"

// FlashSize is the size of each of the virt board's two pflash banks;
// FlashEnvSize is qemu_arm64's CONFIG_ENV_SIZE, its environment at the
// start of the second bank.
const (
	FlashSize    = 64 << 20
	FlashEnvSize = 0x40000
)

// WriteFlash1 writes the second flash bank holding vars as U-Boot's
// environment, or blank (U-Boot's defaults) for nil vars. qemu_arm64 reads
// its environment only from flash, so the tests copy uboot.env's variables
// there before each power-on, as a CONFIG_ENV_IS_IN_FAT U-Boot (the Pi)
// reads them from the file. The block is built here, not with package
// ubootenv, so the two check each other.
func WriteFlash1(t testing.TB, path string, vars map[string]string) {
	t.Helper()
	var block []byte
	if vars != nil {
		var data []byte
		for _, k := range slices.Sorted(maps.Keys(vars)) {
			data = fmt.Appendf(data, "%s=%s\x00", k, vars[k])
		}
		data = append(data, 0)
		if len(data) > FlashEnvSize-4 {
			t.Fatalf("environment of %d bytes does not fit in %d", len(data), FlashEnvSize)
		}
		data = append(data, make([]byte, FlashEnvSize-4-len(data))...)
		block = append(binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(data)), data...)
	}
	WriteSized(t, path, block, FlashSize)
}

// DefaultEnv is U-Boot's built-in environment, read from its binary: the
// NUL-separated block that starts with bootcmd=. A uboot.env must hold it,
// because a U-Boot keeping its environment in a file uses exactly the
// file. The one change: bootdelay=0, no 2 s countdown per power cycle.
func DefaultEnv(t testing.TB, bin []byte) map[string]string {
	t.Helper()
	i := bytes.Index(bin, []byte("\x00bootcmd=run distro_bootcmd\x00"))
	if i < 0 {
		t.Fatal("u-boot.bin: no default environment found (bootcmd=run distro_bootcmd)")
	}
	end := bytes.Index(bin[i+1:], []byte("\x00\x00"))
	env := map[string]string{}
	for _, kv := range strings.Split(string(bin[i+1:i+1+end]), "\x00") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("u-boot.bin default environment: %q", kv)
		}
		env[k] = v
	}
	for _, k := range []string{"bootcmd", "boot_targets", "kernel_addr_r", "fdt_addr", "bootdelay"} {
		if _, ok := env[k]; !ok {
			t.Fatalf("u-boot.bin default environment has no %s: %v", k, env)
		}
	}
	env["bootdelay"] = "0"
	return env
}

// WriteSized writes data to path, padded with zeros to size.
func WriteSized(t testing.TB, path string, data []byte, size int64) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

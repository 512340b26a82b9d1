package ubootenv

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseConfig(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []Location
	}{
		{"single, Pi FAT", "# uboot.env on the boot partition\n/boot/uboot.env 0x0000 0x4000\n",
			[]Location{{Path: "/boot/uboot.env", Size: 0x4000, Source: "cfg:2"}}},
		{"redundant, block device from the end", "/dev/mmcblk0 0x3c0000 0x20000\n/dev/mmcblk0\t-0x20000\t0x20000\n",
			[]Location{{Path: "/dev/mmcblk0", Offset: 0x3c0000, Size: 0x20000, Source: "cfg:1"},
				{Path: "/dev/mmcblk0", Offset: -0x20000, Size: 0x20000, Source: "cfg:2"}}},
		// ENVSIZE is hex even without 0x (libubootenv's %zx); OFFSET is
		// decimal, 0x hex or 0 octal (%lli).
		{"number bases", "e 4096 4000\n", []Location{{Path: "e", Offset: 4096, Size: 0x4000, Source: "cfg:1"}}},
		{"octal offset", "e 010 0X100\n", []Location{{Path: "e", Offset: 8, Size: 0x100, Source: "cfg:1"}}},
		{"all fields, CRLF, comment", "  e  +0x10 0x100 0x1000 2 0 # trailing\r\n\n   # indented comment\n",
			[]Location{{Path: "e", Offset: 0x10, Size: 0x100, SectorSize: 0x1000, Sectors: 2, Source: "cfg:1"}}},
		{"comment field", "e 0 0x100 #0x200\n", []Location{{Path: "e", Size: 0x100, Source: "cfg:1"}}},
		{"same file, two places", "e 0 0x100\ne 0x100 0x100\n",
			[]Location{{Path: "e", Size: 0x100, Source: "cfg:1"}, {Path: "e", Offset: 0x100, Size: 0x100, Source: "cfg:2"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseConfig("cfg", []byte(tc.text))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, cfg.Copies); diff != "" {
				t.Errorf("copies (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{
		{"empty", "# nothing\n\n", "cfg: no environment configured"},
		{"too few fields", "a 0 0x100\nb 0\n", "cfg:2: 2 fields"},
		{"too many fields", "a 0 0x100 0 0 0 0\n", "cfg:1: 7 fields"},
		{"three copies", "a 0 0x100\nb 0 0x100\nc 0 0x100\n", "cfg:3: a third copy"},
		{"zero size", "a 0 0\n", "ENVSIZE 0"},
		{"size below the header", "a 0 4\n", "ENVSIZE 0x4 outside"},
		{"huge size", "a 0 0x40000000\n", "outside"},
		{"sizes differ", "a 0 0x100\nb 0 0x200\n", "differs"},
		{"bad offset", "a 0x 0x100\n", `cfg:1: OFFSET "0x"`},
		{"octal 8", "a 08 0x100\n", `OFFSET "08"`},
		{"underscore", "a 1_000 0x100\n", `OFFSET "1_000"`},
		{"signed size", "a 0 -0x100\n", `ENVSIZE "-0x100"`},
		{"bad size", "a 0 16k\n", `ENVSIZE "16k"`},
		{"bad sector size", "a 0 0x100 zz\n", `SECTORSIZE "zz"`},
		{"bad disable lock", "a 0 0x100 0 0 2\n", `DISABLELOCK "2"`},
		{"overlap", "a 0 0x100\na 0xff 0x100\n", "overlap"},
		{"offset overflow", "a 0x7fffffffffffffff 0x100\n", "OFFSET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseConfig("cfg", []byte(tc.text))
			if !errors.Is(err, ErrBadConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v; want ErrBadConfig containing %q", err, tc.want)
			}
		})
	}
}

func TestParseConfigFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fw_env.config")
	if err := os.WriteFile(path, []byte("uboot.env 0 0x4000\nbad\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseConfig(path); err == nil || !strings.Contains(err.Error(), path+":2:") {
		t.Errorf("ParseConfig: %v; want an error naming %s:2", err, path)
	}
	if _, err := ParseConfig(path + ".missing"); !errors.Is(err, ErrBadConfig) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ParseConfig of a missing file: %v", err)
	}
}

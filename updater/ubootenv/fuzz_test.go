package ubootenv

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParseEnv feeds arbitrary data areas (and whole copies) to the
// parser. A data area it accepts must survive a write and a read: encoding
// its variables takes no more room than they had, and reads back the same.
// Seeds: testdata/fuzz/FuzzParseEnv.
func FuzzParseEnv(f *testing.F) {
	f.Add([]byte("\x00"))
	f.Add([]byte("bootcmd=run lockd_boot\x00lockd_slot=A\x00lockd_try=\x00\x00\xff\xff"))
	f.Add([]byte("a=1\x00a=2\x00noequals\x00=v\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, redundant := range []bool{false, true} {
			if len(data) > headerSize(redundant) {
				decodeBlock(data, redundant) // must not panic
			}
		}
		vars, err := ParseEnv(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		m := toMap(vars)
		enc, err := encodeData(m, len(data))
		if err != nil {
			t.Fatalf("variables parsed from %d bytes do not fit back: %v", len(data), err)
		}
		again, err := ParseEnv(enc)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if diff := cmp.Diff(m, toMap(again)); diff != "" {
			t.Fatalf("round trip (-parsed +re-parsed):\n%s", diff)
		}
	})
}

// FuzzParseConfig feeds arbitrary fw_env.config text to the parser; what it
// accepts must be a valid Config. Seeds: testdata/fuzz/FuzzParseConfig.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("/boot/uboot.env 0x0 0x4000\n"))
	f.Add([]byte("/dev/mmcblk0 0x3c0000 0x20000\n/dev/mmcblk0 -0x20000 0x20000 0x200 1 0 # x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := parseConfig("fuzz", data)
		if err != nil {
			if !errors.Is(err, ErrBadConfig) {
				t.Fatalf("error %v does not wrap ErrBadConfig", err)
			}
			return
		}
		if err := cfg.validate(); err != nil {
			t.Fatalf("accepted an invalid config: %v", err)
		}
		for _, c := range cfg.Copies {
			_ = c.String()
		}
	})
}

package bundle

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	m := testManifest() // acme,lock-rev2 2.1.0, security version 3
	m.Image = Image{Size: 1000, SHA256: strings.Repeat("ab", 32), Compression: CompressionZstd,
		StoredSize: 400, StoredSHA256: strings.Repeat("cd", 32)}
	ok := Policy{Compatible: "acme,lock-rev2", BootedVersion: "2.0.9", MinSecurityVersion: 3, SlotSize: 1000}
	tests := []struct {
		name     string
		edit     func(*Policy)
		want     error
		contains []string
	}{
		{"ok", func(*Policy) {}, nil, nil},
		{"newer pre-release booted", func(p *Policy) { p.BootedVersion = "2.1.0-rc.1" }, nil, nil},
		{"incompatible", func(p *Policy) { p.Compatible = "acme,lock-rev1" }, ErrIncompatible,
			[]string{`"acme,lock-rev2"`, `"acme,lock-rev1"`}},
		{"same version", func(p *Policy) { p.BootedVersion = "2.1.0" }, ErrDowngrade, []string{"2.1.0"}},
		{"same version other build", func(p *Policy) { p.BootedVersion = "2.1.0+b7" }, ErrDowngrade, nil},
		{"older", func(p *Policy) { p.BootedVersion = "10.0.0" }, ErrDowngrade, []string{"2.1.0", "10.0.0"}},
		{"downgrade allowed", func(p *Policy) { p.BootedVersion = "10.0.0"; p.AllowDowngrade = true }, nil, nil},
		{"security version", func(p *Policy) { p.MinSecurityVersion = 4 }, ErrSecurityVersion, []string{"3", "4"}},
		{"security version despite override", func(p *Policy) {
			p.MinSecurityVersion = 4
			p.BootedVersion = "10.0.0"
			p.AllowDowngrade = true
		}, ErrSecurityVersion, nil},
		{"too big", func(p *Policy) { p.SlotSize = 999 }, ErrTooBig, []string{"1000", "999"}},
	}
	all := []error{ErrIncompatible, ErrDowngrade, ErrSecurityVersion, ErrTooBig}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ok
			tt.edit(&p)
			err := Check(m, p)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			for _, other := range all {
				if other != tt.want && errors.Is(err, other) {
					t.Errorf("%v also matches %v", err, other)
				}
			}
			for _, s := range tt.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%q does not mention %s", err, s)
				}
			}
		})
	}
}

func TestCheckBadPolicy(t *testing.T) {
	m := testManifest()
	m.Image = Image{Size: 1, SHA256: strings.Repeat("ab", 32), Compression: CompressionNone,
		StoredSize: 1, StoredSHA256: strings.Repeat("ab", 32)}
	for name, p := range map[string]Policy{
		"no compatible":  {BootedVersion: "1.0.0", SlotSize: 1},
		"no version":     {Compatible: "acme,lock-rev2", SlotSize: 1},
		"bad version":    {Compatible: "acme,lock-rev2", BootedVersion: "v1.0", SlotSize: 1},
		"slot size zero": {Compatible: "acme,lock-rev2", BootedVersion: "1.0.0"},
	} {
		if err := Check(m, p); err == nil || isAny(err, ErrIncompatible, ErrDowngrade, ErrSecurityVersion, ErrTooBig) {
			t.Errorf("%s: got %v, want a policy error", name, err)
		}
	}
	if err := Check(Manifest{}, Policy{}); !errors.Is(err, ErrBadManifest) {
		t.Errorf("zero manifest: got %v, want ErrBadManifest", err)
	}
}

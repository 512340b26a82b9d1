package bundle

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	hexA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	hexB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// manifestJSON is a valid manifest with "%IMAGE%"-style holes for tests.
const manifestJSON = `{
  "format": 1,
  "compatible": "acme,lock-rev2",
  "version": "2.1.0-rc.1+build.5",
  "security_version": 3,
  "image": {"size": 1000, "sha256": "` + hexA + `", "compression": "zstd",
            "stored_size": 400, "stored_sha256": "` + hexB + `"},
  "created": "2026-11-25T03:00:00Z",
  "description": "line one\nline two"
}`

func TestParseManifestValid(t *testing.T) {
	m, err := ParseManifest([]byte(manifestJSON))
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != "2.1.0-rc.1+build.5" || m.Image.StoredSHA256 != hexB || m.SecurityVersion != 3 {
		t.Errorf("decoded %+v", m)
	}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := ParseManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(m, m2); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
	// Description is optional.
	noDesc := strings.Replace(manifestJSON, ",\n  \"description\": \"line one\\nline two\"", "", 1)
	if _, err := ParseManifest([]byte(noDesc)); err != nil {
		t.Errorf("without description: %v", err)
	}
}

func TestParseManifestStrict(t *testing.T) {
	rep := func(old, new string) string {
		if !strings.Contains(manifestJSON, old) {
			t.Fatalf("test bug: %q not in manifest", old)
		}
		return strings.Replace(manifestJSON, old, new, 1)
	}
	tests := map[string]string{
		"unknown field":         rep(`"format": 1,`, `"format": 1, "extra": 1,`),
		"unknown image field":   rep(`"size": 1000,`, `"size": 1000, "offset": 0,`),
		"duplicate field":       rep(`"format": 1,`, `"format": 1, "format": 1,`),
		"duplicate compatible":  rep(`"format": 1,`, `"compatible": "other", "format": 1,`),
		"field case":            rep(`"compatible"`, `"Compatible"`),
		"null":                  rep(`"security_version": 3`, `"security_version": null`),
		"object for scalar":     rep(`"security_version": 3`, `"security_version": {}`),
		"image not object":      rep(`"image": {`, `"image": [{`),
		"missing format":        rep(`"format": 1,`, ``),
		"missing image sha":     rep(`"sha256": "`+hexA+`", `, ``),
		"missing stored sha":    rep(`, "stored_sha256": "`+hexB+`"`, ``),
		"missing created":       rep(`"created": "2026-11-25T03:00:00Z",`, ``),
		"trailing data":         manifestJSON + `{}`,
		"trailing garbage":      manifestJSON + `x`,
		"array":                 `[` + manifestJSON + `]`,
		"empty":                 ``,
		"format 2":              rep(`"format": 1`, `"format": 2`),
		"format float":          rep(`"format": 1`, `"format": 1.0`),
		"negative security":     rep(`"security_version": 3`, `"security_version": -3`),
		"security as string":    rep(`"security_version": 3`, `"security_version": "3"`),
		"huge size":             rep(`"size": 1000`, `"size": 18446744073709551616`),
		"zero size":             rep(`"size": 1000`, `"size": 0`),
		"bad version":           rep(`2.1.0-rc.1+build.5`, `2.1`),
		"v version":             rep(`2.1.0-rc.1+build.5`, `v2.1.0`),
		"empty compatible":      rep(`"acme,lock-rev2"`, `""`),
		"space in compatible":   rep(`"acme,lock-rev2"`, `"acme lock"`),
		"control compatible":    rep(`"acme,lock-rev2"`, `"acme\u001b[31m"`),
		"upper hex":             rep(hexA, strings.ToUpper(hexA)),
		"short hex":             rep(hexA, hexA[1:]),
		"compression gzip":      rep(`"zstd"`, `"gzip"`),
		"none size mismatch":    rep(`"zstd"`, `"none"`),
		"bad created":           rep(`2026-11-25T03:00:00Z`, `2026-11-25 03:00:00`),
		"escape in description": rep(`line one\nline two`, `\u001b[2J`),
		"invalid utf-8":         rep(`line one`, "line \xff"),
		"too big":               rep(`line one`, strings.Repeat("x", MaxManifestSize)),
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			m, err := ParseManifest([]byte(doc))
			t.Log(err)
			if !errors.Is(err, ErrBadManifest) {
				t.Errorf("got %+v, %v; want ErrBadManifest", m, err)
			}
		})
	}
}

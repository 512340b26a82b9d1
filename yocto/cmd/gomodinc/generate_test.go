package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The committed files, relative to this package.
const (
	incPath      = "../../meta-lockd/recipes-lockd/lockd/lockd-go-mods.inc"
	licensesPath = "../../../docs/third-party-licenses.md"
)

// TestIncMatchesGoSum regenerates lockd-go-mods.inc and the licence list
// in memory and fails when a committed file differs: go.mod or go.sum
// changed without `make yocto-gomod`.
func TestIncMatchesGoSum(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("go not found in PATH, and CI=true forbids skipping")
		}
		t.Skip("go not found in PATH: cannot ask it which modules the build reads")
	}
	gen, err := Generate(context.Background(), "../../..", DefaultPackages)
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, incPath, gen.Inc)
	sameFile(t, licensesPath, gen.Licenses)
}

// sameFile fails, naming the first line that differs, unless the file at
// path holds got.
func sameFile(t *testing.T, path string, got []byte) {
	t.Helper()
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: run `make yocto-gomod`", err)
	}
	if string(got) != string(want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s is stale (go.mod/go.sum changed): run `make yocto-gomod`.\nfirst difference, line %d:\ncommitted: %s\nexpected:  %s",
					filepath.Clean(path), i+1, w, g)
			}
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"Apache License\n Version 2.0, January 2004", "Apache-2.0"},
		{"Permission is hereby granted, free of charge, to any person", "MIT"},
		{"Redistribution and use in source and binary forms ... Neither the name of Google", "BSD-3-Clause"},
		{"Redistribution and use in source and binary forms, with or without\nmodification", "BSD-2-Clause"},
		{"Permission to use, copy, modify, and/or distribute this software for any purpose", "ISC"},
		{"Mozilla Public License Version 2.0", "MPL-2.0"},
		{"Permission is hereby granted, free of charge ... Apache License Version 2.0", "Apache-2.0 & MIT"},
		{"Eclipse Public License v2.0\nand Eclipse Distribution License v1.0 which accompany", "(BSD-3-Clause | EPL-2.0)"},
		{"All rights reserved. Do not copy.", ""},
	} {
		if got := classify(tc.text); got != tc.want {
			t.Errorf("classify(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestEscape(t *testing.T) {
	for _, s := range []string{"github.com/BurntSushi/toml", "golang.org/x/sys", "v1.0.0-RC1"} {
		e := escape(s)
		if strings.ContainsFunc(e, func(r rune) bool { return 'A' <= r && r <= 'Z' }) || unescape(e) != s {
			t.Errorf("escape(%q) = %q, unescape back %q", s, e, unescape(e))
		}
	}
	if got := escape("github.com/BurntSushi/toml"); got != "github.com/!burnt!sushi/toml" {
		t.Errorf("escape = %q", got)
	}
}

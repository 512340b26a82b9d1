package updater_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/bundle"
)

// TestRefusals: every bundle the unit must not take is refused before one
// byte is written — slots, environment and state file stay byte-for-byte
// as they were — with its own error.
func TestRefusals(t *testing.T) {
	r := newRig(t)
	u := r.mustLockd(r.boot())
	good := r.bundle("2.0.0", bundleOpts{secVersion: 3})
	goodBytes, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	_, stranger, _ := ed25519.GenerateKey(rand.Reader)
	variant := func(name string, b []byte) string {
		p := filepath.Join(r.dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flip := func(off int) string {
		b := bytes.Clone(goodBytes)
		if off < 0 {
			off += len(b)
		}
		b[off] ^= 0x10
		return variant(fmt.Sprintf("flip%d", off), b)
	}
	manifestAt := bytes.Index(goodBytes, []byte(`"compatible"`))
	// Reordered: the signature section before the manifest section.
	reordered := func() []byte {
		const hdr = 10 // magic and format version
		mlen := int(binary.BigEndian.Uint64(goodBytes[hdr+4:]))
		mnft := goodBytes[hdr : hdr+12+mlen]
		slen := int(binary.BigEndian.Uint64(goodBytes[hdr+12+mlen+4:]))
		sign := goodBytes[hdr+12+mlen : hdr+12+mlen+12+slen]
		out := append(bytes.Clone(goodBytes[:hdr]), sign...)
		out = append(out, mnft...)
		return append(out, goodBytes[hdr+len(mnft)+len(sign):]...)
	}()
	for _, tc := range []struct {
		name string
		path string
		o    updater.InstallOptions
		want error
		text string
	}{
		{"other model", r.bundle("2.0.0", bundleOpts{compatible: "acme,door-2"}), updater.InstallOptions{}, bundle.ErrIncompatible, `"acme,door-2", this unit is "acme,door-1"`},
		{"unknown key", r.bundle("2.0.0", bundleOpts{priv: stranger}), updater.InstallOptions{}, bundle.ErrUnknownKey, "not among the 1 trusted"},
		{"same version", r.bundle("1.0.0", bundleOpts{}), updater.InstallOptions{}, bundle.ErrDowngrade, "not newer"},
		{"older version", r.bundle("0.9.0", bundleOpts{}), updater.InstallOptions{}, bundle.ErrDowngrade, "not newer"},
		{"too big", r.bundle("2.0.0", bundleOpts{size: slotSize + 1}), updater.InstallOptions{}, bundle.ErrTooBig, "larger than the slot"},
		{"truncated", variant("trunc", goodBytes[:len(goodBytes)-100]), updater.InstallOptions{}, bundle.ErrTruncated, ""},
		{"padded", variant("pad", append(bytes.Clone(goodBytes), 0)), updater.InstallOptions{}, bundle.ErrTrailingData, ""},
		{"reordered", variant("reorder", reordered), updater.InstallOptions{}, bundle.ErrSectionOrder, "want MNFT"},
		{"bit flip in the image", flip(-50), updater.InstallOptions{}, bundle.ErrImageHash, ""},
		{"bit flip in the manifest", flip(manifestAt + 3), updater.InstallOptions{}, bundle.ErrBadSignature, ""},
		{"not a bundle", variant("junk", []byte("#!/bin/sh\nrm -rf /\n")), updater.InstallOptions{}, bundle.ErrBadMagic, ""},
		{"empty", variant("empty", nil), updater.InstallOptions{}, bundle.ErrTruncated, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := r.files()
			err := install(t, u, tc.path, tc.o)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("install: %v; want %v containing %q", err, tc.want, tc.text)
			}
			assertUnchanged(t, before, r.files())
			if s := u.Status(); s.Operation != "idle" || s.LastError != "" {
				t.Fatalf("status after a refusal: %+v", s)
			}
		})
	}
	t.Run("not a regular file", func(t *testing.T) {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer pw.Close()
		before := r.files()
		if err := u.Install(context.Background(), pr, updater.InstallOptions{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("install from a pipe: %v", err)
		}
		assertUnchanged(t, before, r.files())
	})
	t.Run("an owner's downgrade", func(t *testing.T) {
		if err := install(t, u, r.bundle("0.9.1", bundleOpts{}), updater.InstallOptions{AllowDowngrade: true}); err != nil {
			t.Fatal(err)
		}
		if got := versionIn(t, r.m.SlotPath(updater.SlotB)); got != "0.9.1" {
			t.Fatalf("slot B holds %q", got)
		}
	})
	t.Run("busy", func(t *testing.T) {
		// A second install right after the first ends with one update
		// pending, whether it came while the first ran (refused as busy)
		// or after (it replaces it). TestSecondInstallWhileWriting pins
		// the busy case down.
		f1, _ := os.Open(good)
		if err := u.Install(context.Background(), f1, updater.InstallOptions{}); err != nil {
			t.Fatal(err)
		}
		f2, _ := os.Open(good)
		err := u.Install(context.Background(), f2, updater.InstallOptions{})
		if waitRest(t, u) != nil {
			t.Fatal(u.Status().LastError)
		}
		if err != nil && !errors.Is(err, updater.ErrBusy) {
			t.Fatalf("second install: %v", err)
		}
		if s := u.Status(); s.Pending == nil || s.Pending.Version != "2.0.0" {
			t.Fatalf("after: %+v", s)
		}
	})
}

// TestMountedSlotRefused: the target is refused when mounted, by path for
// a file.
func TestMountedSlotRefused(t *testing.T) {
	dir := t.TempDir()
	slot := filepath.Join(dir, "slot-B.img")
	if err := os.WriteFile(slot, make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	mi := filepath.Join(dir, "mountinfo")
	line := "36 35 98:0 / /mnt\\040point rw,noatime master:1 - ext4 " + slot + " rw,errors=continue\n"
	if err := os.WriteFile(mi, []byte("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"+line), 0o600); err != nil {
		t.Fatal(err)
	}
	err := updater.CheckNotInUse(slot, mi)
	if err == nil || !strings.Contains(err.Error(), "mounted at /mnt point") {
		t.Fatalf("CheckNotInUse = %v", err)
	}
	if err := updater.CheckNotInUse(slot, filepath.Join(dir, "none")); err == nil {
		t.Fatal("an unreadable mountinfo must refuse, not pass")
	}
	if err := os.WriteFile(mi, []byte("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := updater.CheckNotInUse(slot, mi); err != nil {
		t.Fatal(err)
	}
}

func TestBootedSlot(t *testing.T) {
	devs := map[updater.Slot]string{updater.SlotA: "/dev/mmcblk0p2", updater.SlotB: "/dev/mmcblk0p3"}
	for _, tc := range []struct {
		cmdline string
		want    updater.Slot
		err     string
	}{
		{"console=ttyS0 root=/dev/mmcblk0p2 rootwait lockd.slot=A", updater.SlotA, ""},
		{"root=/dev/mmcblk0p3 lockd.slot=B lockd.trial=1", updater.SlotB, ""},
		{"root=PARTUUID=1234-03 lockd.slot=B", updater.SlotB, ""},
		{"lockd.slot=A", updater.SlotA, ""},
		{"root=/dev/mmcblk0p3 lockd.slot=A", "", "slot B's device"},
		{"root=/dev/mmcblk0p2", "", "no lockd.slot="},
		{"lockd.slot=C", "", "not A or B"},
		{"lockd.slot=a", "", "not A or B"},
		{"lockd.slot=", "", "not A or B"},
		{"lockd.slot=A lockd.slot=B", "", "2 lockd.slot="},
		{"xlockd.slot=A", "", "no lockd.slot="},
	} {
		got, err := updater.BootedSlot([]byte(tc.cmdline+"\n"), devs)
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%q: %q, %v; want %q, %q", tc.cmdline, got, err, tc.want, tc.err)
		}
	}
}

package updater_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/bundle"
)

// Signed bundles whose zstd stream is broken, installed while an update is
// pending (issue 11). Before, the stream was found bad only while the slot
// was written, after the pending update had been discarded.

// frameHeader decodes the zstd frame header a stored stream starts with:
// the rig's images are incompressible, so lockd's encoder writes one frame
// with a 4 MiB window descriptor at byte 5 and raw blocks of 128 KiB.
func frameHeader(t *testing.T, stored []byte) zstd.Header {
	t.Helper()
	var h zstd.Header
	if err := h.Decode(stored); err != nil {
		t.Fatal(err)
	}
	if h.SingleSegment || h.DictionaryID != 0 || !h.FirstBlock.OK || h.FirstBlock.CompressedSize < 4096 {
		t.Fatalf("test bug: the rig's stream starts %+v", h)
	}
	return h
}

// TestBrokenStreamKeepsPending: each is refused before anything changes
// (slots, environment and state file byte for byte), and 2.0.0 stays
// pending.
func TestBrokenStreamKeepsPending(t *testing.T) {
	r := newRig(t)
	u := r.mustLockd(r.boot())
	if err := install(t, u, r.bundle("2.0.0", bundleOpts{}), updater.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func([]byte) []byte
		want error
		text string
	}{
		{"2 GiB window", func(b []byte) []byte {
			frameHeader(t, b)
			b[5] = 21 << 3 // Window_Descriptor: 1 KiB << 21
			return b
		}, bundle.ErrImageCorrupt, "its 2 GiB window is more than the 8 MiB lockd decodes with"},
		{"truncated frame", func(b []byte) []byte { return b[:len(b)-100] }, bundle.ErrImageCorrupt, "cut short"},
		{"skippable frame", func(b []byte) []byte {
			return append(b, 0x50, 0x2a, 0x4d, 0x18, 0, 0, 0, 0)
		}, bundle.ErrImageCorrupt, "skippable frame"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := r.bundle("3.0.0", bundleOpts{editStored: tc.edit})
			before := r.files()
			err := install(t, u, path, updater.InstallOptions{})
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) || !strings.HasPrefix(err.Error(), "bundle: ") {
				t.Fatalf("install: %v; want %v saying %q", err, tc.want, tc.text)
			}
			assertUnchanged(t, before, r.files())
			s := u.Status()
			if s.Operation != "pending" || s.Pending == nil || s.Pending.Version != "2.0.0" || s.LastError != "" {
				t.Fatalf("after the refusal: %+v (pending %+v)", s, s.Pending)
			}
		})
	}
	if got := versionIn(t, r.m.SlotPath(updater.SlotB)); got != "2.0.0" {
		t.Fatalf("slot B holds %q", got)
	}
	approveAndReboot(t, r, u)
	if b := r.boot(); b.Slot != updater.SlotB || !b.Trial {
		t.Fatalf("the kept update did not boot on trial: %+v", b)
	}
}

// TestFailedWriteReportsReplaced: a stream whose headers are sound but
// whose content is not (a byte of a block changed before signing) passes
// the first pass and fails while the slot is written. The update that was
// pending is gone then; the history, LastError and the update-failed
// event say so.
func TestFailedWriteReportsReplaced(t *testing.T) {
	r := newRig(t)
	u := r.mustLockd(r.boot())
	if err := install(t, u, r.bundle("2.0.0", bundleOpts{}), updater.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	events, stop := u.Subscribe(8)
	defer stop()
	path := r.bundle("3.0.0", bundleOpts{editStored: func(b []byte) []byte {
		h := frameHeader(t, b)
		b[h.HeaderSize+3+1000] ^= 0xff // inside the first block, past its header
		return b
	}})
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Install(context.Background(), f, updater.InstallOptions{}); err != nil {
		t.Fatalf("the checks refused a stream with sound headers: %v", err)
	}
	err = waitRest(t, u)
	const lost = "update 2.0.0, which was pending in slot B, was discarded when this install began writing that slot; install it again"
	if err == nil || !strings.Contains(err.Error(), lost) {
		t.Fatalf("LastError %v; want it to say %q", err, lost)
	}
	s := u.Status()
	if s.Operation != "idle" || s.Pending != nil || s.Slots[updater.SlotB].State != updater.SlotEmpty {
		t.Fatalf("after the failed write: %+v", s)
	}
	h := s.History
	if len(h) < 2 || h[len(h)-2].Event != "replaced" || h[len(h)-2].Version != "2.0.0" || h[len(h)-1].Event != "failed" {
		t.Fatalf("history ends %+v", h[max(0, len(h)-2):])
	}
	// endInstall emits under the lock Status takes: the event is here.
	for {
		select {
		case e := <-events:
			if e.Kind != "update-failed" {
				continue
			}
			if e.Version != "3.0.0" || !strings.Contains(e.Detail, lost) {
				t.Fatalf("event %+v", e)
			}
			return
		default:
			t.Fatal("no update-failed event")
		}
	}
}

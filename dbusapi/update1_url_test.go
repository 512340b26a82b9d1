package dbusapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/google/go-cmp/cmp"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/updater"
)

func (f *fakeUpdater) InstallSource(_ context.Context, src updater.Source, o updater.InstallOptions) error {
	defer src.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("InstallSource %d %+v", src.Size(), o))
	return f.err
}

// urlSource is what OpenURL returns in these tests.
type urlSource struct{ n int64 }

func (urlSource) ReadAt([]byte, int64) (int, error) { return 0, errors.New("not read here") }
func (s urlSource) Size() int64                     { return s.n }
func (urlSource) Close() error                      { return nil }

// TestInstallFromURL: an admin's URL is opened and installed, and the
// request audited with the URL; what is no http(s) URL, or carries a
// password, is refused before anything is opened.
func TestInstallFromURL(t *testing.T) {
	s, u, st := testUpdateService(t, caller{uid: 1000, gids: []uint32{990}, haveGIDs: true})
	var opened []string
	s.cfg.OpenURL = func(_ context.Context, url string) (updater.Source, error) {
		opened = append(opened, url)
		return urlSource{n: 42}, nil
	}
	call := func(url string) *dbus.Error {
		opts := map[string]dbus.Variant{}
		return (update1{s}).InstallFromURL(message(wire.Update1, "InstallFromURL", url, opts), url, opts)
	}
	const good = "https://updates.example/lockd-2.1.0.bundle"
	if derr := call(good); derr != nil {
		t.Fatal(derr)
	}
	if got := u.takeCalls(); len(got) != 1 || got[0] != "InstallSource 42 {AllowDowngrade:false}" {
		t.Errorf("updater calls %q", got)
	}
	want := []codes.AuditEvent{{Kind: wire.EventUpdateInstall, Source: "dbus", UID: 1000, Details: map[string]string{wire.KeyURL: good}}}
	if diff := cmp.Diff(want, st.audit, ignoreTime); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"ftp://updates.example/x.bundle", "/tmp/x.bundle", "https://user:pw@updates.example/x.bundle", "https://" + strings.Repeat("a", maxURL)} {
		if derr := call(bad); derr == nil || derr.Name != wire.ErrInvalidArgs {
			t.Errorf("%.40q: %v", bad, derr)
		}
	}
	if len(opened) != 1 {
		t.Errorf("opened %q", opened)
	}
	s.cfg.OpenURL = nil
	if derr := call(good); derr == nil || derr.Name != wire.ErrUnavailable {
		t.Errorf("without OpenURL: %v", derr)
	}
}

// TestInstallFromURLDenied: the method is an admin's, like Install.
func TestInstallFromURLDenied(t *testing.T) {
	s, u, _ := testUpdateService(t, caller{uid: 1000, gids: []uint32{991}, haveGIDs: true})
	s.cfg.OpenURL = func(context.Context, string) (updater.Source, error) { t.Fatal("opened"); return nil, nil }
	opts := map[string]dbus.Variant{}
	derr := (update1{s}).InstallFromURL(message(wire.Update1, "InstallFromURL", "https://x.example/b", opts), "https://x.example/b", opts)
	if derr == nil || derr.Name != "org.freedesktop.DBus.Error.AccessDenied" || len(u.takeCalls()) != 0 {
		t.Fatalf("%v", derr)
	}
}

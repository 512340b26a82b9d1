package dbusapi

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/bundle"
)

// testUpdateService is testService with a fake updater.
func testUpdateService(t *testing.T, c caller) (*Service, *fakeUpdater, *fakeCodes) {
	t.Helper()
	s, _, st := testService(t, c)
	u := newFakeUpdater()
	s.cfg.Updater = u
	return s, u, st
}

// received is a descriptor as godbus hands one to a handler: a copy of
// f's, now the handler's to close.
func received(t *testing.T, fd uintptr) dbus.UnixFD {
	t.Helper()
	d, err := unix.Dup(int(fd))
	if err != nil {
		t.Fatal(err)
	}
	return dbus.UnixFD(d)
}

// pipeClosed reports whether every read end of the pipe of w is closed.
func pipeClosed(t *testing.T, w *os.File) bool {
	t.Helper()
	_, err := w.Write([]byte("x"))
	return errors.Is(err, syscall.EPIPE)
}

func bundleFile(t *testing.T, content string) *os.File {
	t.Helper()
	p := filepath.Join(t.TempDir(), "b.lockd")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestInstallPassesTheFileAndAudits(t *testing.T) {
	s, u, st := testUpdateService(t, caller{uid: 1000, gids: []uint32{990}, haveGIDs: true})
	f := bundleFile(t, "bundle bytes")
	fd := received(t, f.Fd())
	opts := map[string]dbus.Variant{wire.OptAllowDowngrade: dbus.MakeVariant(true)}
	if derr := (update1{s}).InstallWithOptions(message(wire.Update1, "InstallWithOptions", fd, opts), fd, opts); derr != nil {
		t.Fatal(derr)
	}
	if got := u.takeCalls(); len(got) != 1 || got[0] != "Install {AllowDowngrade:true}" {
		t.Errorf("updater calls %q", got)
	}
	if string(u.read) != "bundle bytes" {
		t.Errorf("updater read %q", u.read)
	}
	want := []codes.AuditEvent{{Kind: wire.EventUpdateInstall, Source: "dbus", Reason: wire.OptAllowDowngrade, UID: 1000}}
	if diff := cmp.Diff(want, st.audit, ignoreTime); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}

var ignoreTime = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Time" }, cmp.Ignore())

// TestInstallRefusesWhatIsNoBundleFile: descriptors the updater cannot
// read as a file are refused before it sees them, and closed.
func TestInstallRefusesWhatIsNoBundleFile(t *testing.T) {
	s, u, st := testUpdateService(t, caller{uid: 0})
	call := func(fd dbus.UnixFD) *dbus.Error {
		return (update1{s}).Install(message(wire.Update1, "Install", fd), fd)
	}
	// A pipe: refused, and lockd's copy closed.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	derr := call(received(t, r.Fd()))
	r.Close()
	if derr == nil || derr.Name != wire.ErrInvalidArgs || !strings.Contains(fmt.Sprint(derr.Body...), "pipe, not a regular file") {
		t.Errorf("pipe: %v", derr)
	}
	if !pipeClosed(t, w) {
		t.Error("lockd kept the pipe open")
	}
	// A socket, a directory, a file open only for writing, an O_PATH.
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(sp[1])
	dir, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	wo, err := os.OpenFile(filepath.Join(t.TempDir(), "w"), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer wo.Close()
	opath, err := unix.Open(bundleFile(t, "x").Name(), unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		fd   dbus.UnixFD
		want string
	}{
		{"socket", dbus.UnixFD(sp[0]), "socket, not a regular file"},
		{"directory", received(t, dir.Fd()), "directory, not a regular file"},
		{"write-only", received(t, wo.Fd()), "not open for reading"},
		{"O_PATH", dbus.UnixFD(opath), "not open for reading"},
	} {
		if derr := call(c.fd); derr == nil || derr.Name != wire.ErrInvalidArgs || !strings.Contains(fmt.Sprint(derr.Body...), c.want) {
			t.Errorf("%s: %v, want InvalidArgs %q", c.name, derr, c.want)
		}
	}
	// lockd closed its end of the socket pair: the peer reads EOF.
	if n, err := unix.Read(sp[1], make([]byte, 1)); n != 0 || err != nil {
		t.Errorf("socket peer read %d, %v: lockd kept its end open", n, err)
	}
	if got := u.takeCalls(); len(got) != 0 {
		t.Errorf("refused descriptors reached the updater: %q", got)
	}
	if len(st.audit) != 0 {
		t.Errorf("refused arguments audited: %+v", st.audit)
	}
}

// TestUpdateDenied: a caller outside lockd-admin is denied and audited;
// its descriptor is closed and nothing reaches the updater.
func TestUpdateDenied(t *testing.T) {
	s, u, st := testUpdateService(t, caller{uid: 1000, gids: []uint32{100}, haveGIDs: true})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	fd := received(t, r.Fd())
	r.Close()
	errs := []*dbus.Error{
		update1{s}.Install(message(wire.Update1, "Install", fd), fd),
		update1{s}.InstallWithOptions(message(wire.Update1, "InstallWithOptions", fd, map[string]dbus.Variant{}), fd, map[string]dbus.Variant{}),
		update1{s}.Approve(message(wire.Update1, "Approve")),
		update1{s}.Reject(message(wire.Update1, "Reject")),
	}
	for i, derr := range errs {
		if derr == nil || derr.Name != wire.ErrAccessDenied {
			t.Errorf("call %d: %v, want AccessDenied", i, derr)
		}
	}
	if !pipeClosed(t, w) {
		t.Error("a denied caller's descriptor stayed open")
	}
	if got := u.takeCalls(); len(got) != 0 {
		t.Errorf("denied calls reached the updater: %q", got)
	}
	var reasons []string
	for _, e := range st.audit {
		if e.Kind != wire.EventAccessDenied || e.UID != 1000 {
			t.Errorf("audited %+v", e)
		}
		reasons = append(reasons, e.Reason)
	}
	want := []string{wire.Update1 + ".Install", wire.Update1 + ".InstallWithOptions", wire.Update1 + ".Approve", wire.Update1 + ".Reject"}
	if diff := cmp.Diff(want, reasons); diff != "" {
		t.Errorf("denials audited (-want +got):\n%s", diff)
	}
}

// TestInstallWrongSignature: godbus would hand an a{ss} over as a{sv};
// lockd refuses it, and closes the descriptor.
func TestInstallWrongSignature(t *testing.T) {
	s, u, _ := testUpdateService(t, caller{uid: 0})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	fd := received(t, r.Fd())
	r.Close()
	msg := message(wire.Update1, "InstallWithOptions", fd, map[string]string{wire.OptAllowDowngrade: "true"})
	derr := update1{s}.InstallWithOptions(msg, fd, map[string]dbus.Variant{wire.OptAllowDowngrade: dbus.MakeVariant("true")})
	if derr == nil || derr.Name != wire.ErrInvalidArgs || !strings.Contains(fmt.Sprint(derr.Body...), "InstallWithOptions takes (ha{sv}), not (ha{ss})") {
		t.Errorf("a{ss}: %v", derr)
	}
	if !pipeClosed(t, w) {
		t.Error("descriptor of a refused call stayed open")
	}
	// A message that carried no descriptor: the index is no descriptor.
	msg = message(wire.Update1, "Install", dbus.UnixFDIndex(0))
	if derr := (update1{s}).Install(msg, 0); derr == nil || derr.Name != wire.ErrInvalidArgs {
		t.Errorf("no descriptor: %v", derr)
	}
	if got := u.takeCalls(); len(got) != 0 {
		t.Errorf("refused calls reached the updater: %q", got)
	}
}

func TestParseInstallOptions(t *testing.T) {
	v := dbus.MakeVariant
	for _, c := range []struct {
		in   map[string]dbus.Variant
		want updater.InstallOptions
		err  string
	}{
		{nil, updater.InstallOptions{}, ""},
		{map[string]dbus.Variant{"allow-downgrade": v(true)}, updater.InstallOptions{AllowDowngrade: true}, ""},
		{map[string]dbus.Variant{"allow-downgrade": v(false)}, updater.InstallOptions{}, ""},
		{map[string]dbus.Variant{"allow-downgrade": v("yes")}, updater.InstallOptions{}, "option allow-downgrade: want type b, got s"},
		{map[string]dbus.Variant{"allow-downgrade": v(uint32(1))}, updater.InstallOptions{}, "want type b, got u"},
		{map[string]dbus.Variant{"force": v(true)}, updater.InstallOptions{}, `unknown option "force": want allow-downgrade`},
		{map[string]dbus.Variant{strings.Repeat("k", 1<<20): v(true)}, updater.InstallOptions{}, "unknown option"},
	} {
		got, derr := parseInstallOptions(c.in)
		if c.err == "" {
			if derr != nil || got != c.want {
				t.Errorf("%v: %+v, %v", c.in, got, derr)
			}
			continue
		}
		msg := fmt.Sprint(derr.Body...)
		if derr.Name != wire.ErrInvalidArgs || !strings.Contains(msg, c.err) || len(msg) > 200 {
			t.Errorf("%.60v: %v, want InvalidArgs %q", c.in, derr, c.err)
		}
	}
}

func TestUpdateErrorMapping(t *testing.T) {
	cases := map[error]string{
		fmt.Errorf("%w: an update is writing", updater.ErrBusy): wire.ErrBusy,
		updater.ErrNothing: wire.ErrNothingPending,
		fmt.Errorf("%w: no lockd.slot=", updater.ErrUnavailable):  wire.ErrUnavailable,
		errors.New("updater: slot B is mounted"):                  wire.ErrFailed,
		fmt.Errorf("updater: trusted keys: %w", bundle.ErrNoKeys): wire.ErrUnavailable,
		context.DeadlineExceeded:                                  wire.ErrFailed,
		fmt.Errorf("bundle: x: %w", bundle.ErrIncompatible):       wire.ErrBundleRefused,
		fmt.Errorf("updater: bundle: %w", bundle.ErrImageHash):    wire.ErrBundleRefused,
	}
	for _, r := range bundle.Refusals() {
		cases[fmt.Errorf("wrapped: %w", r)] = wire.ErrBundleRefused
	}
	for err, want := range cases {
		got := updateError(err)
		if got.Name != want {
			t.Errorf("updateError(%v) = %s, want %s", err, got.Name, want)
		}
		if want == wire.ErrBundleRefused && fmt.Sprint(got.Body...) != err.Error() {
			t.Errorf("refusal message %q, want %q", got.Body, err)
		}
	}
}

// TestRefusalAuditedApproveRejectAudited: a refused bundle is audited
// with why; Approve and Reject name the update they concern.
func TestRefusalAuditedApproveRejectAudited(t *testing.T) {
	s, u, st := testUpdateService(t, caller{uid: 0})
	u.err = fmt.Errorf("%w: bundle is for \"x\", this unit is \"y\"", bundle.ErrIncompatible)
	f := bundleFile(t, "other")
	fd := received(t, f.Fd())
	derr := update1{s}.Install(message(wire.Update1, "Install", fd), fd)
	if derr == nil || derr.Name != wire.ErrBundleRefused {
		t.Fatalf("Install: %v", derr)
	}
	u.err = nil
	u.status.Pending = &updater.Pending{Slot: updater.SlotB, Version: "2.0.0", Phase: updater.PhaseInstalled}
	if derr := (update1{s}).Approve(message(wire.Update1, "Approve")); derr != nil {
		t.Fatal(derr)
	}
	if derr := (update1{s}).Reject(message(wire.Update1, "Reject")); derr != nil {
		t.Fatal(derr)
	}
	u.err = updater.ErrNothing
	if derr := (update1{s}).Reject(message(wire.Update1, "Reject")); derr == nil || derr.Name != wire.ErrNothingPending {
		t.Errorf("Reject with nothing pending: %v", derr)
	}
	pending := map[string]string{"version": "2.0.0", "boot_slot": "B"}
	want := []codes.AuditEvent{
		{Kind: wire.EventUpdateRefused, Source: "dbus", Reason: "bundle: incompatible: bundle is for \"x\", this unit is \"y\""},
		{Kind: wire.EventUpdateApprove, Source: "dbus", Details: pending},
		{Kind: wire.EventUpdateReject, Source: "dbus", Details: pending},
	}
	if diff := cmp.Diff(want, st.audit, ignoreTime); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}

// TestUpdateValues: the property values of a status, and of none.
func TestUpdateValues(t *testing.T) {
	v := dbus.MakeVariant
	st := newFakeUpdater().Status()
	st.Pending = &updater.Pending{Slot: updater.SlotB, Version: "2.0.0", FromVersion: "1.0.0", Phase: updater.PhaseInstalled}
	st.History = []updater.Record{{Event: "installed", Slot: updater.SlotB, Version: "2.0.0"}}
	commitAt := time.Date(2026, 12, 7, 11, 43, 19, 0, time.UTC)
	got := updateValues(st, commitAt)
	want := map[string]any{
		wire.PropOperation: "idle", wire.PropProgress: int32(0), wire.PropLastError: "", wire.PropBootedSlot: "A",
		wire.PropSlots: map[string]map[string]dbus.Variant{
			"A": {"state": v("good"), "version": v("1.0.0"), "booted": v(true)},
			"B": {"state": v("empty"), "booted": v(false)},
		},
		wire.PropPending: map[string]dbus.Variant{"version": v("2.0.0"), "slot": v("B"), "phase": v("installed"),
			"approved": v(false), "from_version": v("1.0.0")},
		wire.PropWaiting: "", wire.PropPolicy: "approve",
		wire.PropHistory:        []map[string]dbus.Variant{{"time": v(int64(0)), "event": v("installed"), "slot": v("B"), "version": v("2.0.0")}},
		wire.PropTrialCommitsAt: uint64(commitAt.UnixMicro()),
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(dbus.Variant{}), cmp.Comparer(func(a, b dbus.Signature) bool { return a.String() == b.String() })); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	// An updater with nothing to say still has every property, typed.
	for name, val := range updateValues(updater.Status{}, time.Time{}) {
		if val == nil {
			t.Errorf("%s is nil", name)
		}
	}
	if !sameValue(updateValues(st, commitAt)[wire.PropSlots], got[wire.PropSlots]) {
		t.Error("equal slots compare unequal")
	}
}

package dbusapi

import (
	"context"
	"errors"
	"os"
	"sort"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"
	"golang.org/x/sys/unix"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/lock"
	"lockd.dev/lockd/updater"
	"lockd.dev/lockd/updater/bundle"
)

// installTimeout bounds Install's checks, which read the whole bundle once
// (a few seconds for a root file system on a Pi's SD card). The D-Bus
// call waits for them; the write goes on in the background.
const installTimeout = 5 * time.Minute

// update1 is io.lockd.Update1, exported when lockd has an updater. Its
// methods are for admins, like every change; its properties are read as
// Lock1's are (props.go, update1_props.go).
type update1 struct{ s *Service }

// Install checks the bundle behind bundle_fd, a descriptor of a regular
// file the caller opened with its own rights, and starts writing it to
// the inactive slot. lockd never opens a path a caller names.
func (u update1) Install(msg dbus.Message, fd dbus.UnixFD) *dbus.Error {
	return u.s.install(msg, "Install", fd, nil)
}

// InstallWithOptions is Install with options (wire.OptAllowDowngrade).
func (u update1) InstallWithOptions(msg dbus.Message, fd dbus.UnixFD, options map[string]dbus.Variant) *dbus.Error {
	return u.s.install(msg, "InstallWithOptions", fd, options)
}

// Approve lets the pending update reboot as soon as the lock allows.
func (u update1) Approve(msg dbus.Message) *dbus.Error {
	return u.s.decide(msg, "Approve", wire.EventUpdateApprove, u.s.cfg.Updater.Approve)
}

// Reject discards the pending update.
func (u update1) Reject(msg dbus.Message) *dbus.Error {
	return u.s.decide(msg, "Reject", wire.EventUpdateReject, u.s.cfg.Updater.Reject)
}

// install runs Install and InstallWithOptions. The descriptor godbus
// received is lockd's from the moment the call arrives: it is closed on
// every path here, or handed to the updater, which closes it.
func (s *Service) install(msg dbus.Message, method string, fd dbus.UnixFD, options map[string]dbus.Variant) *dbus.Error {
	f := adopt(msg, fd)
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	ctx, cancel, uid, derr := s.beginChange(msg, wire.Update1+"."+method)
	if derr != nil {
		return derr
	}
	defer cancel()
	if f == nil {
		return invalidArgs("bundle_fd: no file descriptor came with the call")
	}
	o, derr := parseInstallOptions(options)
	if derr != nil {
		return derr
	}
	if derr := checkBundleFile(f); derr != nil {
		return derr
	}
	// Serve's context, not the call's: the checks may take longer than
	// callTimeout, and a stopping lockd abandons them.
	ictx, icancel := context.WithTimeout(s.base, installTimeout)
	defer icancel()
	bundleFile := f
	f = nil // the updater's now
	e := codes.AuditEvent{Kind: wire.EventUpdateInstall, Source: lock.SourceDBus, UID: uid}
	if o.AllowDowngrade {
		e.Reason = wire.OptAllowDowngrade
	}
	return s.runInstall(ctx, e, func() error { return s.cfg.Updater.Install(ictx, bundleFile, o) })
}

// runInstall runs an accepted install request and audits it as e, or a
// refusal of the bundle as update-refused with the reason.
func (s *Service) runInstall(ctx context.Context, e codes.AuditEvent, install func() error) *dbus.Error {
	if err := install(); err != nil {
		derr := updateError(err)
		if derr.Name == wire.ErrBundleRefused {
			e.Kind, e.Reason = wire.EventUpdateRefused, clip(err.Error(), maxReason)
			s.audit(ctx, e)
		}
		return derr
	}
	s.audit(ctx, e)
	s.syncProps()
	return nil
}

// decide runs Approve and Reject, audited with the update they concern.
func (s *Service) decide(msg dbus.Message, method, kind string, fn func(context.Context) error) *dbus.Error {
	ctx, cancel, uid, derr := s.beginChange(msg, wire.Update1+"."+method)
	if derr != nil {
		return derr
	}
	defer cancel()
	e := codes.AuditEvent{Kind: kind, Source: lock.SourceDBus, UID: uid}
	if p := s.cfg.Updater.Status().Pending; p != nil {
		e.Details = map[string]string{wire.KeyVersion: p.Version, wire.KeyBootSlot: string(p.Slot)}
	}
	if err := fn(ctx); err != nil {
		return updateError(err)
	}
	s.audit(ctx, e)
	s.syncProps()
	return nil
}

// adopt returns the descriptor that came with the call as a file, or nil.
// Only a descriptor godbus received (a UnixFD in the body, not an index
// into a message that carried none) is taken.
func adopt(msg dbus.Message, fd dbus.UnixFD) *os.File {
	if len(msg.Body) == 0 {
		return nil
	}
	if got, ok := msg.Body[0].(dbus.UnixFD); !ok || got != fd || fd < 0 {
		return nil
	}
	// Go receives with MSG_CMSG_CLOEXEC; this is for any other reader.
	unix.CloseOnExec(int(fd))
	return os.NewFile(uintptr(fd), "bundle")
}

// checkBundleFile refuses a descriptor that is not a regular file open
// for reading: the updater reads the bundle twice, at offsets, which a
// pipe or socket cannot do, and a device or directory is no bundle.
func checkBundleFile(f *os.File) *dbus.Error {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return invalidArgs("bundle_fd: %v", err)
	}
	if kind := fileKind(st.Mode); kind != "" {
		return invalidArgs("bundle_fd: a %s, not a regular file: pass the bundle file itself", kind)
	}
	fl, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
	if err != nil {
		return invalidArgs("bundle_fd: %v", err)
	}
	if fl&unix.O_PATH != 0 || fl&unix.O_ACCMODE == unix.O_WRONLY {
		return invalidArgs("bundle_fd: not open for reading")
	}
	return nil
}

// fileKind names a file type other than regular; "" for a regular file.
func fileKind(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return ""
	case unix.S_IFIFO:
		return "pipe"
	case unix.S_IFSOCK:
		return "socket"
	case unix.S_IFDIR:
		return "directory"
	case unix.S_IFCHR:
		return "character device"
	case unix.S_IFBLK:
		return "block device"
	}
	return "special file"
}

// parseInstallOptions reads InstallWithOptions' options, naming the key
// in every error.
func parseInstallOptions(opts map[string]dbus.Variant) (updater.InstallOptions, *dbus.Error) {
	var o updater.InstallOptions
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the first bad key reported is always the same one
	for _, k := range keys {
		v := opts[k]
		switch k {
		case wire.OptAllowDowngrade:
			b, ok := v.Value().(bool)
			if !ok {
				return o, invalidArgs("%v", wrongType(k, "b", v))
			}
			o.AllowDowngrade = b
		default:
			return o, invalidArgs("unknown option %.40q: want %s", k, wire.OptAllowDowngrade)
		}
	}
	return o, nil
}

// updateError maps an error of the updater. Its messages name versions,
// slots and the failed check, never secrets, so they go to the caller.
func updateError(err error) *dbus.Error {
	switch {
	case errors.Is(err, updater.ErrBusy):
		return dbusError(wire.ErrBusy, "%v", err)
	case errors.Is(err, updater.ErrNothing):
		return dbusError(wire.ErrNothingPending, "no update is pending (see lockctl update status)")
	case errors.Is(err, updater.ErrUnavailable), errors.Is(err, bundle.ErrNoKeys), errors.Is(err, bundle.ErrBadKeyFile):
		// No usable trusted key: no bundle can be installed on this unit.
		return dbusError(wire.ErrUnavailable, "%v", err)
	case errors.Is(err, context.DeadlineExceeded):
		return dbusError(wire.ErrFailed, "lockd did not finish checking the bundle in time; nothing was installed")
	case errors.Is(err, context.Canceled):
		return dbusError(wire.ErrFailed, "lockd is stopping; nothing was installed")
	}
	if bundle.Refused(err) {
		return dbusError(wire.ErrBundleRefused, "%v", err)
	}
	return callError(err)
}

func update1Spec() introspect.Interface {
	in := func(name, typ string) introspect.Arg { return introspect.Arg{Name: name, Type: typ, Direction: "in"} }
	types := map[string]string{}
	for k, v := range updateValues(updater.Status{}, time.Time{}) {
		types[k] = dbus.SignatureOf(v).String()
	}
	props := make([]introspect.Property, 0, len(updatePropNames))
	for _, name := range updatePropNames {
		props = append(props, introspect.Property{Name: name, Type: types[name], Access: "read",
			Annotations: []introspect.Annotation{{Name: "org.freedesktop.DBus.Property.EmitsChangedSignal", Value: "true"}}})
	}
	return introspect.Interface{
		Name: wire.Update1,
		Methods: []introspect.Method{
			{Name: "Install", Args: []introspect.Arg{in("bundle_fd", "h")}},
			{Name: "InstallWithOptions", Args: []introspect.Arg{in("bundle_fd", "h"), in("options", "a{sv}")}},
			{Name: "InstallFromURL", Args: []introspect.Arg{in("url", "s"), in("options", "a{sv}")}},
			{Name: "Approve"},
			{Name: "Reject"},
		},
		Properties: props,
	}
}

package dbusapi

import (
	"context"
	"net/url"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/lock"
)

// maxURL bounds the URL InstallFromURL takes.
const maxURL = 2048

// InstallFromURL downloads the bundle at url (http or https) and
// installs it with Install's checks, in Install's order: it returns once
// the signed manifest is checked (and, for a format-1 bundle, every
// stored byte, which downloads it once before the install downloads it
// again); the write goes on in the background, resuming the download by
// Range requests where it breaks. The URL may carry no user name or
// password: it is audited and logged.
func (u update1) InstallFromURL(msg dbus.Message, rawURL string, options map[string]dbus.Variant) *dbus.Error {
	s := u.s
	ctx, cancel, uid, derr := s.beginChange(msg, wire.Update1+".InstallFromURL")
	if derr != nil {
		return derr
	}
	defer cancel()
	if derr := checkBundleURL(rawURL); derr != nil {
		return derr
	}
	o, derr := parseInstallOptions(options)
	if derr != nil {
		return derr
	}
	if s.cfg.OpenURL == nil {
		return dbusError(wire.ErrUnavailable, "this lockd installs no bundle from a URL")
	}
	// Serve's context: the download outlives the call, and a stopping
	// lockd ends it.
	src, err := s.cfg.OpenURL(s.base, rawURL)
	if err != nil {
		return dbusError(wire.ErrFailed, "%v", err)
	}
	ictx, icancel := context.WithTimeout(s.base, installTimeout)
	defer icancel()
	e := codes.AuditEvent{Kind: wire.EventUpdateInstall, Source: lock.SourceDBus, UID: uid,
		Details: map[string]string{wire.KeyURL: clip(rawURL, maxReason)}}
	if o.AllowDowngrade {
		e.Reason = wire.OptAllowDowngrade
	}
	return s.runInstall(ctx, e, func() error { return s.cfg.Updater.InstallSource(ictx, src, o) })
}

// checkBundleURL refuses what is no http(s) URL of a bundle.
func checkBundleURL(raw string) *dbus.Error {
	if len(raw) > maxURL {
		return invalidArgs("url: longer than %d bytes", maxURL)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return invalidArgs("url: want an http:// or https:// URL of a bundle")
	case u.User != nil:
		return invalidArgs("url: no user name or password in the URL (it is logged and audited)")
	}
	return nil
}

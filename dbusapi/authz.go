package dbusapi

import (
	"context"
	"errors"
	"fmt"
	"os/user"
	"slices"
	"strconv"
	"strings"

	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/dbusapi/wire"
	"lockd.dev/lockd/lock"
)

// How lockd knows who calls, without trusting the policy file:
//
// The bus tells: org.freedesktop.DBus.GetConnectionCredentials(sender)
// returns UnixUserID and, from dbus-daemon 1.14 on Linux (SO_PEERGROUPS,
// measured on 1.14.10), UnixGroupIDs: the groups the client process had
// when it connected, its primary group included. These are exactly the
// groups the daemon's own policy rules match, so lockd and the policy
// decide from the same facts.
//
// A bus that returns no UnixGroupIDs (an older daemon or kernel) falls
// back to the user database: the caller's UID's primary and supplementary
// groups (os/user, /etc/group or NSS). Reading /proc/PID/status of the
// caller instead would not work: the unit's ProtectProc=invisible hides
// other users' processes from lockd. The fallback grants a process whose
// user is in lockd-admin even if the process dropped that group; it never
// grants a user who is not in the group.

// caller is what the bus says about a connection.
type caller struct {
	uid      uint32
	gids     []uint32
	haveGIDs bool // the bus reported UnixGroupIDs
}

// busCredentials asks the bus driver about sender.
func (s *Service) busCredentials(ctx context.Context, sender string) (caller, error) {
	var m map[string]dbus.Variant
	err := s.conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.GetConnectionCredentials", 0, sender).Store(&m)
	if err != nil {
		return caller{}, fmt.Errorf("dbusapi: credentials of %s: %w", sender, err)
	}
	var c caller
	uid, ok := m["UnixUserID"].Value().(uint32)
	if !ok {
		return caller{}, fmt.Errorf("dbusapi: the bus reports no UnixUserID for %s", sender)
	}
	c.uid = uid
	if v, ok := m["UnixGroupIDs"]; ok {
		c.gids, c.haveGIDs = v.Value().([]uint32)
	}
	return c, nil
}

// authorize returns the caller's UID if it may change state: root, or a
// member of the admin group. Anyone else gets AccessDenied, which is
// audited with the caller's UID (-1 if even that is unknown).
func (s *Service) authorize(ctx context.Context, sender dbus.Sender, method string) (int, *dbus.Error) {
	return s.allow(ctx, sender, method, "changes the lock", s.adminGroup)
}

// authorizeRead is authorize for a read: code metadata (Codes1.List) is
// for admins, the lock's state and the audit log for readers too. lockd
// checks reads itself, as it checks changes, so that a policy file edited
// by mistake shows nobody else the codes or the log.
func (s *Service) authorizeRead(ctx context.Context, sender dbus.Sender, method string, readers bool) (int, *dbus.Error) {
	if readers {
		return s.allow(ctx, sender, method, "reads the lock", s.adminGroup, s.readerGroup)
	}
	return s.allow(ctx, sender, method, "reads the lock's codes", s.adminGroup)
}

// allow returns the caller's UID if it is root or in one of groups;
// otherwise AccessDenied saying what the method does and who may call it.
func (s *Service) allow(ctx context.Context, sender dbus.Sender, method, what string, groups ...string) (int, *dbus.Error) {
	uid, err := s.checkIn(ctx, string(sender), groups...)
	if err == nil {
		return int(uid), nil
	}
	who := -1
	if !errors.Is(err, errNoCredentials) {
		who = int(uid)
	}
	s.log.Warn("dbusapi: access denied", "method", method, "uid", who, "sender", string(sender), "why", err)
	s.audit(ctx, codes.AuditEvent{Kind: wire.EventAccessDenied, Source: lock.SourceDBus, Reason: method, UID: who})
	return who, dbusError(wire.ErrAccessDenied, "%s %s: only root and members of group %s may call it (caller uid %d)",
		method, what, strings.Join(groups, " or "), who)
}

var errNoCredentials = errors.New("dbusapi: caller credentials unknown")

// check returns the caller's UID and nil if it may change state;
// otherwise the UID and why not.
func (s *Service) check(ctx context.Context, sender string) (uint32, error) {
	return s.checkIn(ctx, sender, s.adminGroup)
}

// checkIn returns the caller's UID and nil if it is root or a member of
// one of groups (a group that does not exist admits nobody); otherwise the
// UID and why not.
func (s *Service) checkIn(ctx context.Context, sender string, groups ...string) (uint32, error) {
	if sender == "" {
		return 0, fmt.Errorf("%w: message has no sender", errNoCredentials)
	}
	c, err := s.credentials(ctx, sender)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errNoCredentials, err)
	}
	if c.uid == 0 || (s.cfg.OwnUserIsAdmin && c.uid == s.ownUID) {
		return c.uid, nil
	}
	var want []uint32
	var lookupErr error
	for _, name := range groups {
		gid, err := s.lookupGroup(name)
		if err != nil {
			lookupErr = errors.Join(lookupErr, err)
			continue
		}
		want = append(want, gid)
	}
	if len(want) == 0 {
		return c.uid, lookupErr
	}
	gids := c.gids
	if !c.haveGIDs {
		if gids, err = s.userGroups(c.uid); err != nil {
			return c.uid, err
		}
	}
	for _, g := range want {
		if slices.Contains(gids, g) {
			return c.uid, nil
		}
	}
	return c.uid, fmt.Errorf("dbusapi: uid %d is not in group %s", c.uid, strings.Join(groups, " or "))
}

// lookupGroup returns the GID of a group name.
func lookupGroup(name string) (uint32, error) {
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, fmt.Errorf("dbusapi: group %s: %w", name, err)
	}
	return parseID(g.Gid)
}

// userGroups returns the groups of a UID in the user database.
func userGroups(uid uint32) ([]uint32, error) {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return nil, fmt.Errorf("dbusapi: groups of uid %d: %w", uid, err)
	}
	names, err := u.GroupIds()
	if err != nil {
		return nil, fmt.Errorf("dbusapi: groups of uid %d: %w", uid, err)
	}
	var gids []uint32
	for _, n := range append(names, u.Gid) {
		if g, err := parseID(n); err == nil {
			gids = append(gids, g)
		}
	}
	return gids, nil
}

func parseID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("dbusapi: id %q: %w", s, err)
	}
	return uint32(n), nil
}

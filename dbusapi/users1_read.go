package dbusapi

import (
	"github.com/godbus/dbus/v5"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/dbusapi/wire"
)

// userEntry is one element of Users1.ListUsers: (u id, s label, a{sv}
// details, a(ust) credentials).
type userEntry struct {
	ID          uint32
	Label       string
	Details     map[string]dbus.Variant
	Credentials []credentialEntry
}

// credentialEntry is (u id, s type, t created µs): never what it holds.
type credentialEntry struct {
	ID      uint32
	Type    string
	Created uint64
}

// ListUsers returns every user, the admin first, then by slot, with its
// credentials' ids and types: never digits, card numbers or digests.
// Admins only, as Codes1.List; lockd checks it itself.
func (m users1) ListUsers(msg dbus.Message) ([]userEntry, *dbus.Error) {
	ctx, cancel, derr := m.s.beginRead(msg, wire.Users1+".ListUsers", false)
	if derr != nil {
		return nil, derr
	}
	defer cancel()
	users, derr := m.s.users()
	if derr != nil {
		return nil, derr
	}
	list, err := users.Users(ctx)
	if err != nil {
		return nil, codesError(err)
	}
	out := make([]userEntry, 0, len(list))
	for _, u := range list {
		if u.ID <= 0 || u.ID > maxID {
			m.s.log.Error("dbusapi: user id does not fit the D-Bus API; not listed", "id", u.ID)
			continue
		}
		e := userEntry{ID: uint32(u.ID), Label: u.Label, Details: userDetails(u), Credentials: []credentialEntry{}}
		for _, c := range u.Credentials {
			if c.ID > 0 && c.ID <= maxID {
				e.Credentials = append(e.Credentials, credentialEntry{ID: uint32(c.ID), Type: string(c.Type), Created: micros(c.Created)})
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// userDetails describes a user: Codes1.List's keys and the user's own.
func userDetails(u codes.UserInfo) map[string]dbus.Variant {
	d := infoDetails(codes.Info{Slot: u.Slot, Kind: u.Kind, Enabled: u.Enabled, Weekdays: u.Weekdays, From: u.From,
		Until: u.Until, ValidFrom: u.ValidFrom, ValidUntil: u.ValidUntil, UsesLeft: u.UsesLeft, Uses: u.Uses,
		Created: u.Created, LastUsed: u.LastUsed})
	d[wire.KeyTwoFactor] = dbus.MakeVariant(u.TwoFactor)
	d[wire.KeyVacation] = dbus.MakeVariant(u.Vacation)
	if u.ExpireAfter > 0 {
		d[wire.KeyExpireAfter] = dbus.MakeVariant(uint32(u.ExpireAfter.Minutes()))
	}
	if !u.FirstUsed.IsZero() {
		d[wire.KeyFirstUsed] = dbus.MakeVariant(micros(u.FirstUsed))
	}
	return d
}

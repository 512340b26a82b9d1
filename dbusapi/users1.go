package dbusapi

import (
	"context"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"

	"lockd.dev/lockd/codes"
	"lockd.dev/lockd/dbusapi/wire"
)

// Users is the code store's users and credentials as Users1 uses them
// (*codes.Store). Config.Codes provides it; a store without it leaves
// Users1 answering io.lockd.Error.Unavailable.
type Users interface {
	Users(ctx context.Context) ([]codes.UserInfo, error)
	CreateUser(ctx context.Context, label string, o codes.AddOptions) (codes.UserInfo, error)
	AddPIN(ctx context.Context, user int64, code string) (int64, error)
	AddCard(ctx context.Context, user int64, card codes.Card, now time.Time) (int64, error)
	RemoveUser(ctx context.Context, user int64) error
	RemoveCredential(ctx context.Context, id int64) error
	SetUserEnabled(ctx context.Context, user int64, enabled bool) error
}

// users1 is io.lockd.Users1: users and their credentials, for admins
// only, reads included. Secrets cross the bus only as AddCredential's
// argument; nothing lockd returns holds digits, card numbers or digests.
type users1 struct{ s *Service }

// users returns the store's users API, or Unavailable.
func (s *Service) users() (Users, *dbus.Error) {
	u, ok := s.cfg.Codes.(Users)
	if !ok || s.cfg.Codes == nil {
		return nil, errStoreUnavailable
	}
	return u, nil
}

// AddUser adds a user without credentials in the next free slot and
// returns its id. options are Codes1.Add's.
func (m users1) AddUser(msg dbus.Message, label string, options map[string]dbus.Variant) (uint32, *dbus.Error) {
	var id uint32
	derr := m.s.changeIn(msg, wire.Users1, "AddUser", func(ctx context.Context) (codes.AuditEvent, *dbus.Error) {
		users, derr := m.s.users()
		if derr != nil {
			return codes.AuditEvent{}, derr
		}
		if derr := checkLabel(label); derr != nil {
			return codes.AuditEvent{}, derr
		}
		o, derr := parseAddOptions(options)
		if derr != nil {
			return codes.AuditEvent{}, derr
		}
		u, err := users.CreateUser(ctx, label, o)
		if err != nil {
			return codes.AuditEvent{}, codesError(err)
		}
		id = uint32(min(u.ID, maxID))
		return codes.AuditEvent{Kind: wire.EventUserAdded, CodeKind: string(u.Kind), Slot: u.Slot}, nil
	})
	return id, derr
}

// AddCredential gives user a PIN ("pin", secret the digits) or a card
// ("card", secret "FACILITY:NUMBER"; option bits) and returns the
// credential's id. A secret already stored, or a PIN that starts or ends
// a stored one, is refused and counts as a wrong entry.
func (m users1) AddCredential(msg dbus.Message, user uint32, typ, secret string, options map[string]dbus.Variant) (uint32, *dbus.Error) {
	var id uint32
	derr := m.s.changeIn(msg, wire.Users1, "AddCredential", func(ctx context.Context) (codes.AuditEvent, *dbus.Error) {
		users, derr := m.s.users()
		if derr != nil {
			return codes.AuditEvent{}, derr
		}
		cred, derr := parseCredential(typ, secret, options)
		if derr != nil {
			return codes.AuditEvent{}, derr
		}
		info, derr := m.s.findUser(ctx, users, user)
		if derr != nil {
			return codes.AuditEvent{}, derr
		}
		var cid int64
		var err error
		if cred.pin != "" {
			cid, err = users.AddPIN(ctx, int64(user), cred.pin)
		} else {
			cid, err = users.AddCard(ctx, int64(user), cred.card, m.s.now())
		}
		if err != nil {
			return codes.AuditEvent{}, codesError(err)
		}
		id = uint32(min(cid, maxID))
		return credentialEvent(wire.EventCredentialAdded, cid, typ, info), nil
	})
	return id, derr
}

// RemoveCredential deletes one credential; its user stays.
func (m users1) RemoveCredential(msg dbus.Message, id uint32) *dbus.Error {
	return m.s.changeIn(msg, wire.Users1, "RemoveCredential", func(ctx context.Context) (codes.AuditEvent, *dbus.Error) {
		users, derr := m.s.users()
		if derr != nil {
			return codes.AuditEvent{}, derr
		}
		info, typ, derr := m.s.findCredential(ctx, users, id)
		if derr != nil {
			return codes.AuditEvent{}, derr
		}
		if err := users.RemoveCredential(ctx, int64(id)); err != nil {
			return codes.AuditEvent{}, codesError(err)
		}
		return credentialEvent(wire.EventCredentialRemoved, int64(id), string(typ), info), nil
	})
}

// RemoveUser deletes a user with every credential it holds.
func (m users1) RemoveUser(msg dbus.Message, user uint32) *dbus.Error {
	return m.onUser(msg, "RemoveUser", user, func(ctx context.Context, users Users, info codes.UserInfo) (codes.AuditEvent, *dbus.Error) {
		if err := users.RemoveUser(ctx, int64(user)); err != nil {
			return codes.AuditEvent{}, codesError(err)
		}
		return codes.AuditEvent{Kind: wire.EventUserRemoved, CodeKind: string(info.Kind), Slot: info.Slot}, nil
	})
}

// SetUserEnabled enables or disables a user and so all its credentials.
func (m users1) SetUserEnabled(msg dbus.Message, user uint32, enabled bool) *dbus.Error {
	return m.onUser(msg, "SetUserEnabled", user, func(ctx context.Context, users Users, info codes.UserInfo) (codes.AuditEvent, *dbus.Error) {
		if err := users.SetUserEnabled(ctx, int64(user), enabled); err != nil {
			return codes.AuditEvent{}, codesError(err)
		}
		kind := wire.EventUserDisabled
		if enabled {
			kind = wire.EventUserEnabled
		}
		return codes.AuditEvent{Kind: kind, CodeKind: string(info.Kind), Slot: info.Slot}, nil
	})
}

// onUser runs method, a change of an existing user, as changeIn does:
// fn gets the store and what the user was before.
func (m users1) onUser(msg dbus.Message, method string, user uint32,
	fn func(context.Context, Users, codes.UserInfo) (codes.AuditEvent, *dbus.Error)) *dbus.Error {
	return m.s.changeIn(msg, wire.Users1, method, func(ctx context.Context) (codes.AuditEvent, *dbus.Error) {
		users, derr := m.s.users()
		if derr != nil {
			return codes.AuditEvent{}, derr
		}
		info, derr := m.s.findUser(ctx, users, user)
		if derr != nil {
			return codes.AuditEvent{}, derr
		}
		return fn(ctx, users, info)
	})
}

// credentialEvent describes a credential change for the audit log.
func credentialEvent(kind string, id int64, typ string, u codes.UserInfo) codes.AuditEvent {
	return codes.AuditEvent{Kind: kind, CodeID: id, CodeKind: string(u.Kind), Slot: u.Slot,
		Details: map[string]string{codes.DetailCredential: typ}}
}

// findUser returns user's info, or InvalidArgs.
func (s *Service) findUser(ctx context.Context, users Users, user uint32) (codes.UserInfo, *dbus.Error) {
	list, err := users.Users(ctx)
	if err != nil {
		return codes.UserInfo{}, codesError(err)
	}
	for _, u := range list {
		if u.ID == int64(user) {
			return u, nil
		}
	}
	return codes.UserInfo{}, invalidArgs("no user with id %d", user)
}

// findCredential returns the user holding credential id and its type, or
// InvalidArgs.
func (s *Service) findCredential(ctx context.Context, users Users, id uint32) (codes.UserInfo, codes.CredentialType, *dbus.Error) {
	list, err := users.Users(ctx)
	if err != nil {
		return codes.UserInfo{}, "", codesError(err)
	}
	for _, u := range list {
		for _, c := range u.Credentials {
			if c.ID == int64(id) {
				return u, c.Type, nil
			}
		}
	}
	return codes.UserInfo{}, "", invalidArgs("no credential with id %d", id)
}

// checkLabel bounds a label before the store checks it.
func checkLabel(label string) *dbus.Error {
	if len(label) > codes.MaxLabel || strings.IndexByte(label, 0) >= 0 {
		return invalidArgs("label: at most %d bytes of printable UTF-8", codes.MaxLabel)
	}
	return nil
}

func users1Spec() introspect.Interface {
	in := func(name, typ string) introspect.Arg { return introspect.Arg{Name: name, Type: typ, Direction: "in"} }
	out := func(name, typ string) introspect.Arg { return introspect.Arg{Name: name, Type: typ, Direction: "out"} }
	return introspect.Interface{
		Name: wire.Users1,
		Methods: []introspect.Method{
			{Name: "AddUser", Args: []introspect.Arg{in("label", "s"), in("options", "a{sv}"), out("user_id", "u")}},
			{Name: "AddCredential", Args: []introspect.Arg{in("user_id", "u"), in("type", "s"), in("secret", "s"),
				in("options", "a{sv}"), out("credential_id", "u")}},
			{Name: "RemoveCredential", Args: []introspect.Arg{in("credential_id", "u")}},
			{Name: "RemoveUser", Args: []introspect.Arg{in("user_id", "u")}},
			{Name: "SetUserEnabled", Args: []introspect.Arg{in("user_id", "u"), in("enabled", "b")}},
			{Name: "ListUsers", Args: []introspect.Arg{out("users", "a(usa{sv}a(ust))")}},
		},
	}
}

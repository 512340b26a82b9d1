package codes

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Users and credentials. A user is what a code was before schema v3: a
// kind, a keypad slot (the number its owner knows it by), a label, a
// schedule and uses. A user holds credentials: PINs typed at the keypad
// and Wiegand cards, each a keyed digest (credential.go). Every limit is
// the user's, whichever credential is used. Codes1 (Add, List, Remove,
// SetEnabled) sees a user holding PINs as one code (list.go).

// UserInfo describes a user for Users: never digits, card numbers or
// digests.
type UserInfo struct {
	ID          int64
	Slot        int // 0 for the admin
	Label       string
	Kind        Kind
	Enabled     bool
	Weekdays    Weekdays
	From, Until TimeOfDay
	ValidFrom   time.Time // zero: none
	ValidUntil  time.Time // zero: none
	UsesLeft    int       // -1: unlimited
	Uses        int       // times granted
	Created     time.Time
	LastUsed    time.Time // zero: never
	TwoFactor   bool
	Vacation    bool          // opens in vacation mode too
	ExpireAfter time.Duration // after-first-use: how long from the first use
	FirstUsed   time.Time     // after-first-use: zero until then
	Credentials []CredentialInfo
}

// CredentialInfo describes a credential: its id and type, never what it
// holds.
type CredentialInfo struct {
	ID      int64
	Type    CredentialType
	Created time.Time
}

// Users returns every user with its credentials, the admin first, then
// by slot.
func (s *Store) Users(ctx context.Context) ([]UserInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	return s.users(ctx)
}

func (s *Store) users(ctx context.Context) ([]UserInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, coalesce(slot, 0), label, kind, enabled, weekdays, from_min, until_min,
		valid_from_us, valid_until_us, coalesce(uses_left, -1), uses, created_us, last_used_us, two_factor,
		coalesce(expire_after_min, 0), first_used_us, vacation FROM users ORDER BY slot IS NOT NULL, slot`)
	if err != nil {
		return nil, fmt.Errorf("codes: list users: %w", err)
	}
	defer rows.Close()
	var out []UserInfo
	index := map[int64]int{}
	for rows.Next() {
		var u UserInfo
		var vf, vu, last, first sql.NullInt64
		var created, expire int64
		if err := rows.Scan(&u.ID, &u.Slot, &u.Label, &u.Kind, &u.Enabled, &u.Weekdays, &u.From, &u.Until,
			&vf, &vu, &u.UsesLeft, &u.Uses, &created, &last, &u.TwoFactor, &expire, &first, &u.Vacation); err != nil {
			return nil, fmt.Errorf("codes: list users: %w", err)
		}
		u.Created, u.ExpireAfter = time.UnixMicro(created), time.Duration(expire)*time.Minute
		u.ValidFrom, u.ValidUntil, u.LastUsed, u.FirstUsed = optTime(vf), optTime(vu), optTime(last), optTime(first)
		if p, ok := s.usage[u.ID]; ok {
			u.Uses += p.n
			if p.last.After(u.LastUsed) {
				u.LastUsed = time.UnixMicro(micros(p.last))
			}
		}
		index[u.ID] = len(out)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("codes: list users: %w", err)
	}
	return out, s.credentialsOf(ctx, out, index)
}

// credentialsOf fills in the users' credentials, by id.
func (s *Store) credentialsOf(ctx context.Context, users []UserInfo, index map[int64]int) error {
	rows, err := s.db.QueryContext(ctx, "SELECT id, user_id, type, created_us FROM credentials ORDER BY id")
	if err != nil {
		return fmt.Errorf("codes: list credentials: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c CredentialInfo
		var user, created int64
		if err := rows.Scan(&c.ID, &user, &c.Type, &created); err != nil {
			return fmt.Errorf("codes: list credentials: %w", err)
		}
		c.Created = time.UnixMicro(created)
		if i, ok := index[user]; ok {
			users[i].Credentials = append(users[i].Credentials, c)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("codes: list credentials: %w", err)
	}
	return nil
}

func optTime(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64)
}

// CreateUser adds a user without credentials in the next free slot
// (AddPIN, AddCard give it some). It refuses bad options or label
// (ErrInvalid) and any user before the admin code is set
// (ErrUnprovisioned). No secret is involved, so nothing here is a probe.
func (s *Store) CreateUser(ctx context.Context, label string, o AddOptions) (UserInfo, error) {
	if err := checkLabel(label); err != nil {
		return UserInfo{}, err
	}
	o, err := o.validate()
	if err != nil {
		return UserInfo{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkOpen(); err != nil {
		return UserInfo{}, err
	}
	if !s.provisioned {
		return UserInfo{}, fmt.Errorf("codes: add user: %w", ErrUnprovisioned)
	}
	now := s.opts.Now()
	var u UserInfo
	err = s.write(ctx, func(tx *sql.Tx) error {
		slot, err := s.nextSlot(ctx, tx)
		if err != nil {
			return err
		}
		id, err := s.insertUser(ctx, tx, label, o, slot, now)
		i := infoFor(0, id, slot, label, o, now)
		u = UserInfo{ID: id, Slot: slot, Label: label, Kind: o.Kind, Enabled: true, Weekdays: o.Weekdays, From: o.From,
			Until: o.Until, ValidFrom: o.ValidFrom, ValidUntil: o.ValidUntil, UsesLeft: i.UsesLeft, Created: i.Created,
			TwoFactor: o.TwoFactor, Vacation: o.Vacation, ExpireAfter: o.ExpireAfter}
		return err
	})
	if err != nil {
		return UserInfo{}, err
	}
	return u, nil
}

// AddPIN gives user another PIN and returns the credential's id. The
// code must pass CheckRule and be unambiguous with every stored code;
// a colliding one is refused and counts as a wrong entry (probe.go).
func (s *Store) AddPIN(ctx context.Context, user int64, code string) (int64, error) {
	if err := CheckRule(code, KindUser); err != nil {
		return 0, err
	}
	now := s.opts.Now()
	var id int64
	err := s.enrol(ctx, now, func(tx *sql.Tx) (err error) {
		if err := s.userForCredential(ctx, tx, user); err != nil {
			return err
		}
		id, err = s.insertPIN(ctx, tx, user, code, now)
		return err
	})
	return id, err
}

// RemoveUser deletes a user with every credential it holds (ErrNotFound
// if none). The admin cannot be removed.
func (s *Store) RemoveUser(ctx context.Context, user int64) error {
	return s.remove(ctx, "SELECT id, kind FROM users WHERE id = ?", user)
}

// SetUserEnabled enables or disables a user, all its credentials with
// it. The admin cannot be disabled.
func (s *Store) SetUserEnabled(ctx context.Context, user int64, enabled bool) error {
	return s.setEnabled(ctx, "SELECT id, kind FROM users WHERE id = ?", user, enabled)
}

// RemoveCredential deletes one credential (ErrNotFound if none); its
// user stays, with whatever it holds besides. The admin code can be
// changed, not removed.
func (s *Store) RemoveCredential(ctx context.Context, id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkOpen(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		var kind string
		err := tx.QueryRowContext(ctx, "SELECT u.kind FROM credentials c JOIN users u ON u.id = c.user_id WHERE c.id = ?", id).Scan(&kind)
		if err == sql.ErrNoRows {
			return fmt.Errorf("codes: remove credential: %w", ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("codes: remove credential: %w", err)
		}
		if Kind(kind) == KindAdmin {
			return fmt.Errorf("codes: remove: the admin code can be changed, not removed: %w", ErrInvalid)
		}
		return s.deleteCredential(ctx, tx, id)
	})
}

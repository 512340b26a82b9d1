package codes

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Info describes a stored code for List: never its digits or digest. A
// code is a user holding PINs, as Codes1 sees it (users.go): ID is its
// first PIN credential's id, the rest the user's.
type Info struct {
	ID          int64
	UserID      int64
	Slot        int // 0 for the admin code
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
}

func infoFor(id, user int64, slot int, label string, o AddOptions, now time.Time) Info {
	i := Info{ID: id, UserID: user, Slot: slot, Label: label, Kind: o.Kind, Enabled: true, Weekdays: o.Weekdays,
		From: o.From, Until: o.Until, ValidFrom: o.ValidFrom, ValidUntil: o.ValidUntil, UsesLeft: -1,
		Created: time.UnixMicro(micros(now))}
	if o.Uses > 0 {
		i.UsesLeft = o.Uses
	}
	return i
}

// List returns every code (every user holding a PIN), the admin code
// first, then by slot.
func (s *Store) List(ctx context.Context) ([]Info, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	users, err := s.users(ctx)
	if err != nil {
		return nil, err
	}
	var out []Info
	for _, u := range users {
		for _, c := range u.Credentials {
			if c.Type == CredentialPIN {
				out = append(out, Info{ID: c.ID, UserID: u.ID, Slot: u.Slot, Label: u.Label, Kind: u.Kind, Enabled: u.Enabled,
					Weekdays: u.Weekdays, From: u.From, Until: u.Until, ValidFrom: u.ValidFrom, ValidUntil: u.ValidUntil,
					UsesLeft: u.UsesLeft, Uses: u.Uses, Created: u.Created, LastUsed: u.LastUsed})
				break
			}
		}
	}
	return out, nil
}

// Remove deletes the code with that id (ErrNotFound if none): the user
// whose first PIN it is, with every credential the user holds, as the
// keypad's "2 SLOT #" does. The admin code can be changed (SetAdmin) but
// not removed: that would unprovision the unit and bring the setup code
// back.
func (s *Store) Remove(ctx context.Context, id int64) error {
	return s.remove(ctx, userOfPIN, id)
}

// RemoveSlot deletes the user in a keypad slot with all its credentials
// (ErrNotFound if none). now is accepted for the lock core's interface;
// nothing depends on it.
func (s *Store) RemoveSlot(ctx context.Context, slot int, now time.Time) error {
	return s.remove(ctx, "SELECT id, kind FROM users WHERE slot = ?", slot)
}

// userOfPIN selects the id and kind of the user holding PIN credential ?.
const userOfPIN = "SELECT u.id, u.kind FROM users u JOIN credentials c ON c.user_id = u.id WHERE c.id = ? AND c.type = 'pin'"

func (s *Store) remove(ctx context.Context, query string, arg any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkOpen(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		var id int64
		var kind string
		err := tx.QueryRowContext(ctx, query, arg).Scan(&id, &kind)
		if err == sql.ErrNoRows {
			return fmt.Errorf("codes: remove: %w", ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("codes: remove: %w", err)
		}
		if Kind(kind) == KindAdmin {
			return fmt.Errorf("codes: remove: the admin code can be changed, not removed: %w", ErrInvalid)
		}
		return s.deleteUser(ctx, tx, id)
	})
}

// SetEnabled enables or disables a code without deleting it: the user
// whose PIN it is, with all its credentials. The admin code cannot be
// disabled (programming mode would be unreachable).
func (s *Store) SetEnabled(ctx context.Context, id int64, enabled bool) error {
	return s.setEnabled(ctx, userOfPIN, id, enabled)
}

func (s *Store) setEnabled(ctx context.Context, query string, arg any, enabled bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkOpen(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		var user int64
		var kind string
		err := tx.QueryRowContext(ctx, query, arg).Scan(&user, &kind)
		if err == sql.ErrNoRows {
			return fmt.Errorf("codes: set enabled: %w", ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("codes: set enabled: %w", err)
		}
		if Kind(kind) == KindAdmin && !enabled {
			return fmt.Errorf("codes: the admin code cannot be disabled: %w", ErrInvalid)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET enabled = ? WHERE id = ?", enabled, user); err != nil {
			return fmt.Errorf("codes: set enabled: %w", err)
		}
		return nil
	})
}

// Provisioned reports whether an admin code is set.
func (s *Store) Provisioned(ctx context.Context) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.provisioned, s.checkOpen()
}

// Status is the store's state for lockctl status and D-Bus properties.
type Status struct {
	Provisioned    bool
	SetupCode      bool // a setup code digest is installed (used while unprovisioned)
	Codes          int  // stored users, admin included
	Cards          int  // stored cards
	Failures       int  // consecutive wrong entries
	LockedOutUntil time.Time
	Notices        []Notice
}

// Status returns the store's state at now.
func (s *Store) Status(ctx context.Context, now time.Time) (Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkOpen(); err != nil {
		return Status{}, err
	}
	st := Status{Provisioned: s.provisioned, SetupCode: s.setup != nil, Failures: s.lock.failures,
		LockedOutUntil: s.lock.until(now), Notices: append([]Notice(nil), s.notices...)}
	if err := s.db.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM credentials WHERE type = 'card')").Scan(&st.Codes, &st.Cards); err != nil {
		return Status{}, fmt.Errorf("codes: status: %w", err)
	}
	return st, nil
}

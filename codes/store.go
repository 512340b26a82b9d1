package codes

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "github.com/mattn/go-sqlite3" // the database/sql driver "sqlite3"
)

// Store is the code store. Open it once per state directory; it is safe
// for concurrent use.
type Store struct {
	opts   Options
	path   string
	db     *sql.DB
	lookup *sql.Stmt // one credential by digest: the whole cost of Verify

	mu          sync.Mutex
	closed      bool
	dig         *digester
	setup       []byte // setup code digest, nil if none
	provisioned bool
	vacation    bool // the operating mode is vacation (opmode.go)
	lock        lockoutState
	usage       map[int64]usage // uses of unlimited users not yet written
	second      pendingFactor   // a two-factor user's card awaiting the PIN
	auditCount  [numClasses]int
	repeats     map[string]*repeatRow // refusals repeats add to (repeat.go)
	writes      int64                 // durable transactions since Open
	notices     []Notice
	carry       *lockoutRow // lockout state of a newer database set aside
}

// Open opens (or creates) the store in o.Dir. It needs the device key
// (ErrNoDeviceKey says what to run). It checks the database's integrity,
// moves a corrupt one aside and starts empty (see tryOpen), migrates an
// older schema after copying it, and goes back to the copy made for this
// version when it finds a newer one (ErrNewerSchema when there is none).
// What it found is in Notices. The returned Store resumes any lockout
// with at least its remaining time.
func Open(ctx context.Context, o Options) (*Store, error) {
	return open(ctx, o, migrations)
}

func open(ctx context.Context, o Options, migs []migration) (*Store, error) {
	if o.Dir == "" {
		return nil, fmt.Errorf("codes: open: no state dir: %w", ErrInvalid)
	}
	if strings.ContainsAny(o.Dir, "?#") {
		return nil, fmt.Errorf("codes: open %q: state dir may not contain ? or #: %w", o.Dir, ErrInvalid)
	}
	o = o.withDefaults()
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("codes: open: %w", err)
	}
	key, loose, err := readDeviceKey(o.DeviceKeyPath, o.Dir)
	if err != nil {
		return nil, err
	}
	s := &Store{
		opts:  o,
		path:  filepath.Join(o.Dir, DBName),
		dig:   newDigester(key),
		usage: map[int64]usage{},
	}
	clear(key)
	if loose {
		s.notice(NoticeKeyMode, o.DeviceKeyPath, "device key file is readable by others than its owner; chmod 0600 it", true)
	}
	setup, why := readSetupDigest(filepath.Join(filepath.Dir(o.DeviceKeyPath), SetupDigestName), s.dig.keyID())
	s.setup = setup
	if s.db, err = s.openDB(ctx, migs); err != nil {
		return nil, err
	}
	if err := s.load(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	if !s.provisioned && s.setup == nil {
		s.notice(NoticeNoSetupCode, "", "unit is unprovisioned and has no setup code ("+why+"); set the admin code locally over D-Bus", true)
	}
	for _, n := range s.notices {
		e := AuditEvent{Kind: "store", Source: "codes", Reason: n.Kind, UID: -1,
			Details: map[string]string{"text": n.Text, "path": n.Path}}
		if err := s.record(ctx, e); err != nil {
			s.db.Close()
			return nil, err
		}
	}
	return s, nil
}

// load reads what the store keeps in memory and prepares statements.
func (s *Store) load(ctx context.Context) error {
	err := s.db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM users WHERE kind = 'admin')").Scan(&s.provisioned)
	if err == nil {
		err = s.countAudit(ctx)
	}
	if err == nil {
		err = s.loadMode(ctx) // opmode.go
	}
	if err == nil {
		s.lookup, err = s.db.PrepareContext(ctx, lookupSQL)
	}
	if err != nil {
		return fmt.Errorf("codes: open %s: %w", s.path, err)
	}
	return s.loadLockout(ctx, s.opts.Now())
}

// Close writes what is kept in memory (uses, last-used times, the
// remaining lockout time) and closes the database. Later calls fail with
// ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	ctx := context.Background()
	err := s.write(ctx, func(tx *sql.Tx) error { return s.saveLockout(ctx, tx, s.opts.Now()) })
	if s.lookup != nil {
		s.lookup.Close()
	}
	if cerr := s.db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("codes: close: %w", cerr)
	}
	return err
}

// write runs fn in one immediate transaction, adds the pending uses, and
// returns once the commit is durable (WAL, synchronous=FULL).
func (s *Store) write(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("codes: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := s.flushUsage(ctx, tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := s.flushRepeats(ctx, tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("codes: commit: %w", err)
	}
	clear(s.usage)
	s.repeatsWritten()
	s.writes++
	return nil
}

// Writes returns how many durable transactions (each one WAL commit with
// its fsyncs) the store has made since Open: the measure of flash wear.
func (s *Store) Writes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

// countAudit reads how many events each audit class holds.
func (s *Store) countAudit(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, "SELECT class, count(*) FROM audit GROUP BY class")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var class, n int
		if err := rows.Scan(&class, &n); err != nil {
			return err
		}
		if class >= 0 && class < numClasses {
			s.auditCount[class] = n
		}
	}
	return rows.Err()
}

// checkOpen is called with s.mu held by every public method.
func (s *Store) checkOpen() error {
	if s.closed {
		return fmt.Errorf("codes: %w", ErrClosed)
	}
	return nil
}

func micros(t time.Time) int64 { return t.UnixMicro() }

package sql

import (
	"context"
	stdsql "database/sql"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	sqlite3 "github.com/mattn/go-sqlite3"
)

//go:embed migrations/sqlite/*.sql
var sqliteMigrations embed.FS

// Limits of the store.
const (
	// MaxReadConnections bounds concurrent readers (API requests); the writer has its own.
	MaxReadConnections = 8
	// BusyTimeoutMS is how long a statement waits for a lock before failing.
	BusyTimeoutMS = 10_000
)

// Store is the ledger's database.
type Store struct {
	db       *sqlx.DB     // readers
	write    *stdsql.Conn // the one writer
	writeMu  sync.Mutex
	stmts    map[string]*stdsql.Stmt
	instance string // random id of this database, for outgoing message ids
	Path     string
}

// timeLayout stores instants as fixed-width UTC text, so that text order is time order.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }

// Open opens (creating it if needed) the database named by url and brings its schema up to date.
// url is sqlite://PATH; postgres:// is refused until PostgreSQL support lands.
func Open(ctx context.Context, url string) (*Store, error) {
	var path string
	switch {
	case strings.HasPrefix(url, "sqlite://"):
		path = strings.TrimPrefix(url, "sqlite://")
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return nil, fmt.Errorf("--db %s: PostgreSQL is not supported yet; use sqlite://PATH (the default is sqlite://<data>/ledger.db)", redact(url))
	default:
		return nil, fmt.Errorf("--db %q: want sqlite://PATH", url)
	}
	if path == "" {
		return nil, fmt.Errorf("--db %q: the sqlite path is empty", url)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	}
	dsn := fmt.Sprintf("file:%s?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=%d&_foreign_keys=on&_txlock=immediate&_cache_size=-32768", path, BusyTimeoutMS)
	db, err := sqlx.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(MaxReadConnections + 1)
	db.SetMaxIdleConns(MaxReadConnections + 1)
	db.SetConnMaxLifetime(0)
	s := &Store{db: db, Path: path, stmts: map[string]*stdsql.Stmt{}}
	if s.write, err = db.Conn(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func redact(url string) string {
	if i := strings.Index(url, "@"); i > 0 {
		if j := strings.Index(url, "://"); j > 0 && j < i {
			return url[:j+3] + "…" + url[i:]
		}
	}
	return url
}

// Close releases the database.
func (s *Store) Close() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	for _, st := range s.stmts {
		st.Close()
	}
	if s.write != nil {
		s.write.Close()
	}
	return s.db.Close()
}

// Ping checks the database answers (readiness).
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// migrate applies, in order and each in its own transaction, the migrations not yet applied.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("migrations table: %w", err)
	}
	names, err := sqliteMigrations.ReadDir("migrations/sqlite")
	if err != nil {
		return err
	}
	sort.Slice(names, func(i, j int) bool { return names[i].Name() < names[j].Name() })
	for _, entry := range names {
		name := entry.Name()
		version, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with its version number", name)
		}
		var applied int
		if err := s.write.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&applied); err != nil {
			return err
		}
		if applied > 0 {
			continue
		}
		body, err := sqliteMigrations.ReadFile("migrations/sqlite/" + name)
		if err != nil {
			return err
		}
		err = s.inWrite(ctx, func() error {
			if _, err := s.write.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("migration %s: %w", name, err)
			}
			_, err := s.write.ExecContext(ctx, `INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)`,
				version, name, fmtTime(time.Now()))
			return err
		})
		if err != nil {
			return err
		}
	}
	// The instance id distinguishes this database's outbox message ids from another's.
	err = s.inWrite(ctx, func() error {
		_, err := s.write.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES ('instance', lower(hex(randomblob(8)))) ON CONFLICT(key) DO NOTHING`)
		return err
	})
	if err != nil {
		return err
	}
	return s.write.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'instance'`).Scan(&s.instance)
}

// inWrite runs fn inside BEGIN IMMEDIATE … COMMIT on the writer; fn uses s.write and s.stmts.
// The caller must not hold writeMu.
func (s *Store) inWrite(ctx context.Context, fn func() error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.inWriteLocked(ctx, fn)
}

func (s *Store) inWriteLocked(ctx context.Context, fn func() error) (err error) {
	if _, err := s.write.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			if _, rbErr := s.write.ExecContext(context.Background(), "ROLLBACK"); rbErr != nil {
				err = fmt.Errorf("%w (and rollback failed: %v)", err, rbErr)
			}
		}
	}()
	if err := fn(); err != nil {
		return err
	}
	if _, err := s.write.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
}

// statements prepared once on the writer.
var writeStatements = map[string]string{
	"lookupCharged": `SELECT event_id, content_hash FROM charges WHERE event_id IN (SELECT value FROM jsonb_each(?))`,
	"anyParked":     `SELECT EXISTS (SELECT 1 FROM rejected WHERE resolved_at IS NULL)`,
	"lookupParked": `SELECT id, event_key, content_hash FROM rejected
		WHERE resolved_at IS NULL AND event_key IN (SELECT value FROM jsonb_each(?))`,
	"insertTransaction": `INSERT INTO transactions(kind, at, event_count, memo, created_by) VALUES (?, ?, ?, ?, ?)`,
	"insertEntries": `INSERT INTO entries(transaction_id, ledger_account, account_id, amount_micros, event_count)
		SELECT ?, value->>0, value->>1, value->>2, value->>3 FROM jsonb_each(?)`,
	"addBalances": `INSERT INTO ledger_balances(ledger_account, account_id, balance_micros)
		SELECT value->>0, value->>1, value->>2 FROM jsonb_each(?) WHERE true
		ON CONFLICT(ledger_account) DO UPDATE SET balance_micros = balance_micros + excluded.balance_micros`,
	"insertCharges": `INSERT INTO charges(event_id, content_hash, account_id, transaction_id, channel, product, direction,
		prefix, country, quantity, billed_quantity, amount_micros, surcharge_micros, invalid_caller_id, occurred_at_ns)
		SELECT value->>0, value->>1, value->>2, ?, value->>3, value->>4, value->>5, value->>6, value->>7,
		       value->>8, value->>9, value->>10, value->>11, value->>12, value->>13 FROM jsonb_each(?)`,
	"countInvalidCallerID": `UPDATE accounts SET invalid_caller_id_calls = invalid_caller_id_calls + ? WHERE id = ?`,
	"insertRejected": `INSERT INTO rejected(event_key, content_hash, account_id, reason, detail, subject, payload, parked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
	"reparkRejected":  `UPDATE rejected SET reason = ?, detail = ?, replays = replays + 1 WHERE id = ?`,
	"resolveRejected": `UPDATE rejected SET resolved_at = ?, resolution = ?, replays = replays + 1 WHERE id = ? AND resolved_at IS NULL`,
	"insertOutbox":    `INSERT INTO outbox(subject, payload, created_at) VALUES (?, ?, ?)`,
}

func (s *Store) prepare(ctx context.Context) error {
	for name, q := range writeStatements {
		st, err := s.write.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %s: %w", name, err)
		}
		s.stmts[name] = st
	}
	return nil
}

// TestClock returns the time the test clock was last set to, if it ever was.
func (s *Store) TestClock(ctx context.Context) (time.Time, bool, error) {
	var v string
	err := s.db.GetContext(ctx, &v, `SELECT value FROM meta WHERE key = 'test_clock'`)
	if errors.Is(err, stdsql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read the test clock: %w", err)
	}
	t, err := parseTime(v)
	return t, err == nil, err
}

// SaveTestClock records the test clock's time.
func (s *Store) SaveTestClock(ctx context.Context, now time.Time) error {
	return s.inWrite(ctx, func() error {
		_, err := s.write.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES ('test_clock', ?)
			ON CONFLICT(key) DO UPDATE SET value = excluded.value`, fmtTime(now))
		return err
	})
}

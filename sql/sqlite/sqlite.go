// Package sqlite is the store's SQLite adapter: importing it registers the engine that
// sql.Open uses for sqlite:// URLs (mattn/go-sqlite3 under sqlx).
package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"ledger/sql"

	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3"
)

func init() { sql.Register(Engine) }

// Engine is SQLite: one file, written by one connection, read by a pool beside it.
var Engine = &sql.Engine{
	Name:         "sqlite",
	Schemes:      []string{"sqlite://"},
	Connect:      connect,
	OpenReadOnly: openReadOnly,
	// Checkpoints run beside the writer (RunUpkeep), not inside its commits: an automatic
	// checkpoint in COMMIT copies the WAL into a growing file while ingestion waits.
	WriterSetup:    []string{"PRAGMA wal_autocheckpoint = 0", fmt.Sprintf("PRAGMA journal_size_limit = %d", sql.WALTruncateBytes)},
	Begin:          "BEGIN IMMEDIATE",
	Checkpoint:     "PRAGMA wal_checkpoint(PASSIVE)",
	QuickCheck:     "PRAGMA quick_check",
	IntegrityCheck: "PRAGMA integrity_check",
	ListTables:     `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`,
	Statements: map[string]string{
		"lookupCharged": `SELECT event_id, content_hash FROM charges WHERE event_id IN (SELECT value FROM jsonb_each(?))`,
		"lookupParked": `SELECT id, event_key, content_hash FROM rejected
		WHERE resolved_at IS NULL AND event_key IN (SELECT value FROM jsonb_each(?))`,
		// The batch statements read their rows from one BLOB (rows.c, sql.blobRows).
		"insertEntries": `INSERT INTO entries(id, transaction_id, ledger_account_id, amount_micros, event_count, prev_id)
		SELECT c0, ?, c1, c2, c3, c4 FROM ledger_rows(?)`,
		"addBalances": `UPDATE balances SET balance_micros = balance_micros + d.c2, last_entry_id = d.c0
		FROM ledger_rows(?) AS d WHERE balances.ledger_account_id = d.c1`,
		"insertCharges": `INSERT INTO charges(event_id, content_hash, account_id, transaction_id, amount_micros,
		surcharge_micros, occurred_at_ns, rating, line_id, surcharge_line_id, overtime_line_id, overtime_micros, pseudonym)
		SELECT c0, c1, c2, ?, c3, c4, c5, c6, c7, c8, c9, c10, c11 FROM ledger_rows(?)`,
		"upsertUsageLines": `INSERT INTO usage_lines(account_id, period, line_id, quantity, micros, events)
			SELECT c0, c1, c2, c3, c4, c5 FROM ledger_rows(?) WHERE true
			ON CONFLICT(account_id, period, line_id) DO UPDATE SET quantity = excluded.quantity,
			micros = excluded.micros, events = excluded.events`,
		"countInvalidCallerID": `UPDATE accounts SET invalid_caller_id_calls = invalid_caller_id_calls + d.n
			FROM (SELECT value->>0 AS id, value->>1 AS n FROM json_each(?)) AS d WHERE accounts.id = d.id`,
		"deleteOutbox": `DELETE FROM outbox WHERE id IN (SELECT value FROM json_each(?))`,
		"newInstance":  `INSERT INTO meta(key, value) VALUES ('instance', lower(hex(randomblob(8)))) ON CONFLICT(key) DO NOTHING`,
	},
	UniqueViolation: func(err error) bool {
		var se sqlite3.Error
		return errors.As(err, &se) && (se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
	},
	Damaged: func(err error) bool {
		var se sqlite3.Error
		return errors.As(err, &se) && (se.Code == sqlite3.ErrCorrupt || se.Code == sqlite3.ErrNotADB)
	},
}

// connect opens the SQLite file a sqlite://PATH URL names: WAL, durable commits, and an
// exclusive lock on PATH.lock so that a second ledgerd on the same file is refused.
func connect(ctx context.Context, url string) (sql.Connection, error) {
	path := strings.TrimPrefix(url, "sqlite://")
	if path == "" {
		return sql.Connection{}, fmt.Errorf("--db %q: the sqlite path is empty", url)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return sql.Connection{}, fmt.Errorf("create database directory: %w", err)
		}
	}
	unlock, err := lockDatabase(path)
	if err != nil {
		return sql.Connection{}, err
	}
	dsn := fmt.Sprintf("file:%s?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=%d&_foreign_keys=on&_txlock=immediate&_cache_size=-8192&_mutex=no", path, sql.BusyTimeoutMS)
	db, err := sqlx.Open("sqlite3", dsn)
	if err != nil {
		unlock()
		return sql.Connection{}, fmt.Errorf("open %s: %w", path, err)
	}
	return sql.Connection{DB: db, Unlock: unlock}, nil
}

// openReadOnly opens an existing SQLite file to read it; a file that does not exist is an
// error (opening it would create an empty ledger).
func openReadOnly(ctx context.Context, url string) (*sqlx.DB, error) {
	path := strings.TrimPrefix(url, "sqlite://")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no SQLite database at %s: %w", path, err)
	}
	db, err := sqlx.Open("sqlite3", fmt.Sprintf("file:%s?mode=ro&_busy_timeout=%d", path, sql.BusyTimeoutMS))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// lockDatabase takes an exclusive, non-blocking lock on PATH.lock beside the SQLite file at
// path (created if needed) for as long as the process lives or until the returned function is
// called. SQLite would let a second ledgerd open the same file, and two writers with their own
// in-memory journal heads would corrupt the chains: the lock refuses the second one at start.
func lockDatabase(dbPath string) (func(), error) {
	path := dbPath + ".lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("the SQLite database %s is in use by a running ledgerd (it holds %s): stop it first, or give this ledgerd a database of its own (--data or --db); several instances on one ledger need PostgreSQL (--db postgres://…)", dbPath, path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

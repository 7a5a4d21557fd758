package sql

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/jmoiron/sqlx"
)

// Engine is a database engine the store runs on, as its adapter describes it: sql/sqlite and
// sql/postgres each register one (Register) when imported. The store's code is the same on
// every engine; what differs is here: how to connect, the statements that use an engine's own
// SQL (JSON unpacking, random ids), how a write transaction begins, how the engine reports a
// unique violation, and what its connections can do beyond database/sql (Pipeline,
// BulkCopier). Every other statement is one text for all, written with ? placeholders.
type Engine struct {
	// Name is the engine's name ("sqlite", "postgres"): its migrations are
	// migrations/<Name>/, and copies between engines convert values by it.
	Name string
	// Schemes are the URL prefixes that name the engine ("sqlite://").
	Schemes []string
	// Connect opens the database url names: the pool the store's readers and its one writer
	// come from, with the file it is (SQLite) and what to release on Close.
	Connect func(ctx context.Context, url string) (Connection, error)
	// OpenReadOnly opens the database only to read its schema version; it creates nothing.
	OpenReadOnly func(ctx context.Context, url string) (*sqlx.DB, error)
	// WriterSetup runs once on the writer connection, after it is taken from the pool.
	WriterSetup []string
	// Begin starts a write transaction: SQLite takes the write lock at once (BEGIN IMMEDIATE),
	// so a transaction never fails half-way on a busy lock; PostgreSQL runs each write
	// transaction READ COMMITTED on the one writer connection, with row locks where a row is
	// read to be changed (see docs/architecture.md, "Concurrency per operation").
	Begin string
	// Statements replaces, by name, the engine-neutral statements of the same name, and adds
	// the engine's own (insertEntryArrays and addBalanceArrays, with ArrayParams).
	Statements map[string]string
	// BulkCopy: a batch's charges go in through the writer connection's BulkCopier (COPY on
	// PostgreSQL) instead of INSERT … SELECT over one BLOB of rows (blobRows, which SQLite's
	// ledger_rows reads: there, the cheapest way in).
	BulkCopy bool
	// ArrayParams: a journal transaction's entries and balance updates go as arrays of integers
	// (statements insertEntryArrays and addBalanceArrays, PostgreSQL's unnest) instead of one
	// BLOB of rows (blobRows, read by SQLite's ledger_rows). Measured on 3,700 entries against
	// one JSON parameter, which the server parsed and cast row by row: 24–33 ms against 13–18 ms
	// for the balances, 12 ms against 9 ms for the entries. Such an engine needs no
	// insertEntries or addBalances.
	ArrayParams bool
	// XactID, when set, reads the id of the transaction in progress, so that a COMMIT whose
	// connection broke can be looked up afterwards (see inWriteLocked); only such an engine
	// replaces a lost writer connection. SQLite's connection is a file and never breaks.
	XactID string
	// Checkpoint copies the write-ahead log into the database (SQLite, beside the writer);
	// empty where the server does it by itself.
	Checkpoint string
	// ListTables lists the database's own tables (not views, not the engine's).
	ListTables string
	// ReserveSeqs takes a run of consecutive values from the sequence of a table's seq column
	// in one statement, answering the first (parameters: the table and the count). An engine
	// with BulkCopy sets it: the charges it copies carry their seq, numbered by the writer,
	// rather than one nextval per row on the server. The sequence stays the source of every
	// seq, so a ledgerd that inserts with the column's default (an older one, during a rolling
	// upgrade) takes values after the run.
	ReserveSeqs string
	// RatingType, when set, answers the type of charges.rating: json, or jsonb on a ledger
	// that migration 0014 left as it was (too large to rewrite at a start). Empty: text.
	RatingType string
	// QuickCheck, when set, checks the database's pages at Open (SQLite's PRAGMA quick_check,
	// answering the single row "ok"); IntegrityCheck is the thorough check of ledgerctl db check.
	// Empty where the server keeps its own pages (PostgreSQL checksums them as it reads).
	QuickCheck, IntegrityCheck string
	// Damaged, when set, reports whether err says the database file is damaged or not one.
	Damaged func(error) bool
	// UniqueViolation reports whether err is a unique or primary-key violation.
	UniqueViolation func(error) bool
	// ReserveIDs takes ids of a table (its first parameter) from its sequence ahead of need, as
	// many as the second says, for the write pipeline (pipeline.go); empty: no pipeline, and
	// the writer connection need not be a Pipeline.
	ReserveIDs string
	// WriterLock, when set, takes the cluster's writer lock for the transaction in progress:
	// several ledgerd may share the database (cluster.go). LeaderLock tries to take the leader
	// lease for the session (answers a boolean), LeaderHeld says the session still holds it,
	// LeaderUnlock gives it up. MigrateLock and MigrateUnlock hold off another ledgerd while
	// one migrates.
	WriterLock, LeaderLock, LeaderHeld, LeaderUnlock, MigrateLock, MigrateUnlock string
}

// Connection is an opened database: the pool and what to release on Close (nil: nothing).
type Connection struct {
	DB     *sqlx.DB
	Unlock func()
}

// Pipeline is a driver connection that queues statements and sends them together
// (pipeline.go). Before anything else runs on the connection it sends what is queued and
// reads the answers; the store discards what is queued before it rolls back.
type Pipeline interface {
	// Enqueue adds a statement with ? placeholders and returns how many are queued.
	Enqueue(query string, args []any) (queued int, err error)
	// Send sends what is queued without waiting for the answers.
	Send(ctx context.Context) error
	// Flush sends what is queued and waits for every answer; it returns the first failure.
	Flush(ctx context.Context) error
	// Discard drops what is queued and any failure of it: the transaction is rolled back.
	Discard()
}

// BulkCopier is a driver connection that writes rows into a table in bulk (COPY), inside the
// transaction in progress. The rows come as COPY data in PostgreSQL's binary format, encoded by
// the store (copyRows) while the batch is planned, beside the writer. Before (issue 19), rows of
// Go values went to pgx's CopyFrom: it asked the server for the columns' types first, a round
// trip a batch, and encoded value by value during the commit. Measured on 600,000 events: the
// server's time in the charges' COPY 4.3 s → 3.6–3.9 s, the process's CPU 0.9 µs less an event.
type BulkCopier interface {
	CopyRows(ctx context.Context, table string, columns []string, data []byte) error
}

var (
	enginesMu sync.RWMutex
	engines   []*Engine
)

// Register makes an engine available to Open by its URL schemes. The adapters call it when
// imported; registering a scheme twice is a programming error.
func Register(e *Engine) {
	enginesMu.Lock()
	defer enginesMu.Unlock()
	for _, known := range engines {
		for _, a := range known.Schemes {
			for _, b := range e.Schemes {
				if a == b {
					panic("sql: scheme " + a + " registered twice")
				}
			}
		}
	}
	engines = append(engines, e)
}

// engineOf returns the engine a --db URL names.
func engineOf(url string) (*Engine, error) {
	enginesMu.RLock()
	defer enginesMu.RUnlock()
	var schemes []string
	for _, e := range engines {
		for _, scheme := range e.Schemes {
			if strings.HasPrefix(url, scheme) {
				return e, nil
			}
			schemes = append(schemes, scheme+"…")
		}
	}
	if len(engines) == 0 {
		return nil, fmt.Errorf("--db %q: no database engine is built in (import ledger/sql/sqlite or ledger/sql/postgres)", Redact(url))
	}
	return nil, fmt.Errorf("--db %q: want sqlite://PATH or postgres://USER@HOST/DATABASE (engines built in: %s)", Redact(url), strings.Join(schemes, ", "))
}

// q returns the statement name for this engine.
func (e *Engine) q(name string) string {
	if st, ok := e.Statements[name]; ok {
		return st
	}
	if st, ok := sharedStatements[name]; ok {
		return st
	}
	panic("sql: no statement " + name)
}

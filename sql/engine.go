package sql

import (
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	sqlite3 "github.com/mattn/go-sqlite3"
)

// engine is what differs between the database engines the store runs on: the statements that
// use an engine's own SQL (JSON unpacking, random ids), how a write transaction begins, where
// its migrations are and how it reports a unique violation. Every other statement is the same
// text on both, written with ? placeholders (the PostgreSQL connector numbers them).
type engine struct {
	name string // "sqlite" or "postgres"
	// begin starts a write transaction: SQLite takes the write lock at once (BEGIN IMMEDIATE),
	// so a transaction never fails half-way on a busy lock; PostgreSQL runs each write
	// transaction READ COMMITTED on the one writer connection, with row locks where a row is
	// read to be changed (see docs/architecture.md, "Concurrency per operation").
	begin string
	// statements replaces, by name, the engine-neutral statements of the same name.
	statements map[string]string
	// bulkCopy: a batch's charges go in by COPY (PostgreSQL) instead of INSERT … SELECT over one
	// JSON parameter (SQLite, where that is the cheapest way in). Measured on PostgreSQL, three
	// runs of 200,000 events over 10,000 accounts each way: 38.9k–43.5k events/s against
	// 34.7k–43.6k (ratio 0.24–0.29 against 0.21–0.24). Entries stay an INSERT: their COPY
	// measured no better (45.3k–46.3k against 40.8k–49.2k) and cost a boxed row per entry.
	bulkCopy bool
	// xactID, when set, reads the id of the transaction in progress, so that a COMMIT whose
	// connection broke can be looked up afterwards (see inWriteLocked); only such an engine
	// replaces a lost writer connection. SQLite's connection is a file and never breaks.
	xactID string
	// checkpoint copies the write-ahead log into the database (SQLite, beside the writer); empty
	// where the server does it by itself.
	checkpoint string
	// listTables lists the database's own tables (not views, not the engine's).
	listTables string
	// uniqueViolation reports whether err is a unique or primary-key violation.
	uniqueViolation func(error) bool
	// reserveIDs takes ids of a table (its first parameter) from its sequence ahead of need, as
	// many as the second says, for the write pipeline (pipeline.go); empty: no pipeline.
	reserveIDs string
}

// q returns the statement name for this engine.
func (e *engine) q(name string) string {
	if st, ok := e.statements[name]; ok {
		return st
	}
	if st, ok := sharedStatements[name]; ok {
		return st
	}
	panic("sql: no statement " + name)
}

var sqliteEngine = &engine{
	name:       "sqlite",
	begin:      "BEGIN IMMEDIATE",
	checkpoint: "PRAGMA wal_checkpoint(PASSIVE)",
	listTables: `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`,
	statements: map[string]string{
		"lookupCharged": `SELECT event_id, content_hash FROM charges WHERE event_id IN (SELECT value FROM jsonb_each(?))`,
		"lookupParked": `SELECT id, event_key, content_hash FROM rejected
		WHERE resolved_at IS NULL AND event_key IN (SELECT value FROM jsonb_each(?))`,
		"insertEntries": `INSERT INTO entries(id, transaction_id, ledger_account_id, amount_micros, event_count, prev_id)
		SELECT value->>0, ?, value->>1, value->>2, value->>3, value->>4 FROM jsonb_each(?)`,
		"addBalances": `UPDATE balances SET balance_micros = balance_micros + d.amount, last_entry_id = d.entry
		FROM (SELECT value->>0 AS entry, value->>1 AS id, value->>2 AS amount FROM jsonb_each(?)) AS d
		WHERE balances.ledger_account_id = d.id`,
		"insertCharges": `INSERT INTO charges(event_id, content_hash, account_id, transaction_id, amount_micros,
		surcharge_micros, occurred_at_ns, rating, line_id, surcharge_line_id, overtime_line_id, overtime_micros)
		SELECT value->>0, value->>1, value->>2, ?, value->>3, value->>4, value->>5, value->6, value->>7, value->>8,
		value->>9, coalesce(value->>10, 0) FROM jsonb_each(?)`,
		"upsertUsageLines": `INSERT INTO usage_lines(account_id, period, line_id, quantity, micros, events)
			SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5 FROM jsonb_each(?) WHERE true
			ON CONFLICT(account_id, period, line_id) DO UPDATE SET quantity = excluded.quantity,
			micros = excluded.micros, events = excluded.events`,
		"deleteOutbox": `DELETE FROM outbox WHERE id IN (SELECT value FROM json_each(?))`,
		"newInstance":  `INSERT INTO meta(key, value) VALUES ('instance', lower(hex(randomblob(8)))) ON CONFLICT(key) DO NOTHING`,
	},
	uniqueViolation: func(err error) bool {
		var se sqlite3.Error
		return errors.As(err, &se) && (se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
	},
}

// postgresEngine: the JSON arrays a batch travels in are unpacked by jsonb_array_elements, with
// each field cast to its column's type (PostgreSQL does not cast text to bigint on its own).
var postgresEngine = &engine{
	name:       "postgres",
	begin:      "BEGIN ISOLATION LEVEL READ COMMITTED",
	xactID:     "SELECT CAST(pg_current_xact_id() AS text)",
	bulkCopy:   true,
	reserveIDs: `SELECT nextval(pg_get_serial_sequence(?, 'id')) FROM generate_series(1, ?)`,
	listTables: `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
	statements: map[string]string{
		"lookupCharged": `SELECT event_id, content_hash FROM charges
		WHERE event_id IN (SELECT jsonb_array_elements_text(?::jsonb))`,
		"lookupParked": `SELECT id, event_key, content_hash FROM rejected
		WHERE resolved_at IS NULL AND event_key IN (SELECT jsonb_array_elements_text(?::jsonb))`,
		"insertEntries": `INSERT INTO entries(id, transaction_id, ledger_account_id, amount_micros, event_count, prev_id)
		SELECT (value->>0)::bigint, ?, (value->>1)::bigint, (value->>2)::bigint, (value->>3)::bigint, (value->>4)::bigint
		FROM jsonb_array_elements(?::jsonb)`,
		"addBalances": `UPDATE balances SET balance_micros = balance_micros + d.amount, last_entry_id = d.entry
		FROM (SELECT (value->>0)::bigint AS entry, (value->>1)::bigint AS id, (value->>2)::bigint AS amount
		      FROM jsonb_array_elements(?::jsonb)) AS d
		WHERE balances.ledger_account_id = d.id`,
		"insertCharges": `INSERT INTO charges(event_id, content_hash, account_id, transaction_id, amount_micros,
		surcharge_micros, occurred_at_ns, rating, line_id, surcharge_line_id, overtime_line_id, overtime_micros)
		SELECT value->>0, (value->>1)::bigint, value->>2, ?, (value->>3)::bigint, (value->>4)::bigint,
		(value->>5)::bigint, value->6, (value->>7)::bigint, (value->>8)::bigint,
		(value->>9)::bigint, coalesce((value->>10)::bigint, 0) FROM jsonb_array_elements(?::jsonb)`,
		"upsertUsageLines": `INSERT INTO usage_lines(account_id, period, line_id, quantity, micros, events)
			SELECT value->>0, (value->>1)::bigint, (value->>2)::bigint, (value->>3)::bigint, (value->>4)::bigint,
			(value->>5)::bigint FROM jsonb_array_elements(?::jsonb)
			ON CONFLICT(account_id, period, line_id) DO UPDATE SET quantity = excluded.quantity,
			micros = excluded.micros, events = excluded.events`,
		"deleteOutbox": `DELETE FROM outbox WHERE id IN (SELECT jsonb_array_elements_text(?::jsonb)::bigint)`,
		"newInstance":  `INSERT INTO meta(key, value) VALUES ('instance', substr(md5(random()::text || clock_timestamp()::text), 1, 16)) ON CONFLICT(key) DO NOTHING`,
	},
	uniqueViolation: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "23505"
	},
}

// rebind numbers the ? placeholders of query as PostgreSQL's $1, $2, … (outside quoted text).
func rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	quote := byte(0)
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			// ?NNN names a parameter by number (SQLite's form): $NNN; a bare ? is the next one.
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			b.WriteByte('$')
			if j > i+1 {
				b.WriteString(query[i+1 : j])
				i = j - 1
			} else {
				n++
				b.WriteString(strconv.Itoa(n))
			}
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Package sql is the ledger's store: it keeps every aggregate the use cases of package billing
// declare (accounts, charges and the journal, lots, invoices and payments, parked events, the
// outbox) in a relational database, with versioned migrations per engine
// (migrations/<engine>/, versions in step). It implements what the domain packages decide; the
// rules live there.
//
// The engines are adapters under this package, each registering itself when imported:
// ledger/sql/sqlite (mattn/go-sqlite3: WAL, one writer, durable commits) and
// ledger/sql/postgres (pgx's database/sql driver: one writer connection, READ COMMITTED, COPY
// and a statement pipeline). What differs between them is one Engine value; every statement of
// this package is the same text on both, written with ? placeholders that the PostgreSQL
// connection numbers. This package imports no driver (a test holds it to that).
//
// All writes go through one connection, serialised, inside one transaction each, with
// statements prepared once on that connection. A batch of usage events is written with one
// statement per table, so that the cost per event is the row itself, not a round trip: on
// SQLite the charges, entries, balance updates and open usage lines travel as one BLOB that
// the adapter's ledger_rows table-valued function reads (rows.go, sql/sqlite/rows.c); on
// PostgreSQL the charges go in by COPY, as binary COPY data encoded while the batch is planned
// (copyRows, rows.go; each row's seq from a run taken per batch, Engine.ReserveSeqs), so do the entries of a transaction of many (copyEntries), the balances,
// usage lines and smaller transactions' entries as arrays (unnest), and the other rows by
// jsonb_array_elements. A billing run's writes go through the pipeline (pipeline.go)
// on PostgreSQL.
package sql

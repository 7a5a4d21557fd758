// Package sql stores the ledger in SQLite (WAL, one writer, durable commits) or PostgreSQL
// (pgx under sqlx, one writer connection, READ COMMITTED): versioned migrations per engine,
// accounts, the journal, charges, parked events and the outbox. It implements what the domain
// packages decide; the rules live there. What differs between the engines is one engine value
// (engine.go); every other statement is the same text on both, written with ? placeholders that
// the PostgreSQL connector numbers (postgres.go).
//
// All writes go through one connection, serialised, inside one transaction each, with
// statements prepared once on that connection. A batch of usage events is written with one
// statement per table: on SQLite the rows travel as one JSON array that json_each unpacks, so
// the cost per event is the row itself, not a round trip; on PostgreSQL the charges go in by
// COPY and the other rows by jsonb_array_elements.
package sql

// Package sql stores the ledger in SQLite (WAL, one writer, durable commits): versioned
// migrations, accounts, the journal, charges, parked events and the outbox. It implements what
// the domain packages decide; the rules live there.
//
// All writes go through one connection, serialised, inside BEGIN IMMEDIATE … COMMIT, with
// statements prepared once on that connection. A batch of usage events is written with one
// statement per table: the rows travel as one JSON array that SQLite's json_each unpacks, so
// the cost per event is the row itself, not a round trip.
package sql

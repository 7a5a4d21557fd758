package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"ledger/service"
	"ledger/sql"
)

// defaultDB is the database the db commands look at unless --db says otherwise: LEDGER_DB, as
// ledgerd reads it, or ledgerd's default file under ./data.
func defaultDB() string {
	if db := os.Getenv("LEDGER_DB"); db != "" {
		return db
	}
	return service.DefaultDB(service.DefaultData)
}

func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", defaultDB(), "the ledger's database, a `URL`: sqlite://PATH or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE\n"+
		"(env LEDGER_DB, as ledgerd reads it; default ledgerd's sqlite://data/ledger.db)")
}

// schemaStatus is what `db status` reports.
type schemaStatus struct {
	DB      string `json:"db"`
	Applied int    `json:"schema_version"`
	Newest  int    `json:"newest_version"`
	State   string `json:"state"` // current, behind, ahead, empty
}

// dbStatus is `ledgerctl db status [--db URL]`: the schema version of a ledger's database
// against this release's, read without changing anything (ledgerd may run).
func dbStatus(fs *flag.FlagSet) action {
	db := dbFlag(fs)
	return func(ctx context.Context, inv *invocation) error {
		st, err := schemaOf(ctx, *db)
		if err != nil {
			return sql.ScrubPasswords(err, *db)
		}
		if inv.json {
			return writeJSON(inv.stdout, st)
		}
		what := map[string]string{
			"current": "up to date with this release",
			"behind":  "older than this release: ledgerd migrates it when it starts (or `ledgerd migrate --db URL`)",
			"ahead":   "newer than this release: use the ledgerd and ledgerctl that migrated it",
			"empty":   "holds no ledger yet: ledgerd creates the schema when it starts",
		}[st.State]
		_, err = fmt.Fprintf(inv.stdout, "database  %s\nschema    version %d of %d: %s\n", st.DB, st.Applied, st.Newest, what)
		return err
	}
}

func schemaOf(ctx context.Context, url string) (schemaStatus, error) {
	applied, newest, err := sql.SchemaVersion(ctx, url)
	if err != nil {
		return schemaStatus{}, fmt.Errorf("--db %s: %w", sql.Redact(url), err)
	}
	st := schemaStatus{DB: sql.Redact(url), Applied: applied, Newest: newest, State: "current"}
	switch {
	case applied == 0:
		st.State = "empty"
	case applied < newest:
		st.State = "behind"
	case applied > newest:
		st.State = "ahead"
	}
	return st, nil
}

// dbCheck is `ledgerctl db check [--db URL]`: the database's pages (SQLite's integrity_check),
// then the ledger's invariants checked over the whole database — every transaction balanced, every balance the sum of its entries, the entry
// chains, invoices against their documents and payments, the open usage lines — as the tests
// check them after every run. For a restored backup, a copy, or a ledger that looks wrong. It
// opens the database as ledgerd does (stop ledgerd first on SQLite: it locks the file) and
// refuses one whose schema is not this release's rather than migrate it.
func dbCheck(fs *flag.FlagSet) action {
	db := dbFlag(fs)
	return func(ctx context.Context, inv *invocation) error {
		err := checkLedger(ctx, *db, inv)
		return sql.ScrubPasswords(err, *db)
	}
}

func checkLedger(ctx context.Context, url string, inv *invocation) error {
	st, err := schemaOf(ctx, url)
	if err != nil {
		return err
	}
	if st.State != "current" {
		return fmt.Errorf("--db %s is at schema version %d, this ledgerctl's is %d: `ledgerctl db status` says what to do; nothing was checked", st.DB, st.Applied, st.Newest)
	}
	store, err := sql.Open(ctx, url)
	if err != nil {
		return fmt.Errorf("--db %s: %w", st.DB, err)
	}
	defer store.Close()
	if err := store.CheckPages(ctx); err != nil {
		return err
	}
	if err := store.CheckInvariants(ctx); err != nil {
		return fmt.Errorf("%s breaks the ledger's invariants:\n%w", st.DB, err)
	}
	if inv.json {
		return writeJSON(inv.stdout, map[string]any{"db": st.DB, "pages": "ok", "invariants": "hold"})
	}
	_, err = fmt.Fprintf(inv.stdout, "database    %s\npages       ok (SQLite: integrity_check; PostgreSQL checks its own)\ninvariants  hold (transactions balanced, balances = entries, entry chains, invoices and payments, open usage lines)\n", st.DB)
	return err
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"ledger/sql"
)

// dbCopy is `ledgerctl db copy --from URL --to URL`: the whole ledger copied from one database
// into another, empty one (SQLite to PostgreSQL, or any other way between the two engines),
// then both ends compared. It works on the databases themselves, not through ledgerd's API:
// ledgerd must be stopped.
func dbCopy(fs *flag.FlagSet) action {
	from := fs.String("from", "", "the ledger to copy, a `URL`: sqlite://PATH or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE; required.\n"+
		"Stop ledgerd first: it locks its SQLite file while it runs, and the copy must see a ledger at rest.\n"+
		"It must be at this release's schema version (start this release's ledgerd on it once, then stop it);\n"+
		"it is only read")
	to := fs.String("to", "", "the database to copy into, a `URL` of the same forms; its schema is created if needed; required.\n"+
		"It must hold no ledger (no accounts, transactions, charges, invoices, parked events, outbox…):\n"+
		"otherwise nothing is copied. The copy is one transaction: if it fails, the target is as it was.\n"+
		"Then both ends are verified: the rows of every table, the ledger balances of every account,\n"+
		"the invoice and credit-note numbers, and the ledger's invariants on the target; any difference exits 1")
	return func(ctx context.Context, inv *invocation) error {
		switch {
		case *from == "":
			return usagef("--from is required")
		case *to == "":
			return usagef("--to is required")
		case *from == *to:
			return usagef("--from and --to name the same database")
		}
		err := copyLedger(ctx, *from, *to, inv)
		// A driver's message might quote a URL whole: no password leaves this command.
		return sql.ScrubPasswords(err, *from, *to)
	}
}

// copySummary is what a copy verified, for the summary it prints.
type copySummary struct {
	From        string  `json:"from"`
	To          string  `json:"to"`
	Tables      int     `json:"tables"`
	Rows        int64   `json:"rows"`
	Accounts    int     `json:"accounts"`
	Invoices    int     `json:"invoices"`
	CreditNotes int     `json:"credit_notes"`
	Elapsed     float64 `json:"elapsed_seconds"`
	Verified    bool    `json:"verified"`
}

// copyLedger opens both ends, copies, opens the target again (as ledgerd would) and verifies.
func copyLedger(ctx context.Context, from, to string, inv *invocation) error {
	started := time.Now()
	source, target := sql.Redact(from), sql.Redact(to)
	applied, newest, err := sql.SchemaVersion(ctx, from)
	switch {
	case err != nil:
		return fmt.Errorf("--from %s: %w", source, err)
	case applied == 0:
		return fmt.Errorf("--from %s holds no ledger (no schema_migrations)", source)
	case applied < newest:
		return fmt.Errorf("--from %s is at schema version %d, this ledgerctl's is %d: start this release's ledgerd on it once (it migrates the database), stop it, then copy", source, applied, newest)
	case applied > newest:
		return fmt.Errorf("--from %s is at schema version %d, newer than this ledgerctl knows (%d): use the ledgerctl of the ledgerd that migrated it", source, applied, newest)
	}

	src, err := sql.Open(ctx, from)
	if err != nil {
		return fmt.Errorf("--from %s: %w", source, err)
	}
	defer src.Close()
	dst, err := sql.Open(ctx, to)
	if err != nil {
		return fmt.Errorf("--to %s: %w", target, err)
	}
	fmt.Fprintf(inv.stderr, "copying %s into %s\n", source, target)
	err = src.CopyTo(ctx, dst, func(table string, rows, total int64) {
		fmt.Fprintf(inv.stderr, "copied %d/%d rows of %s\n", rows, total, table)
	})
	dst.Close()
	switch {
	case errors.Is(err, sql.ErrTargetNotEmpty):
		return fmt.Errorf("--to %s: %w", target, err)
	case err != nil:
		return fmt.Errorf("copy %s into %s: %w (the copy is one transaction: the target is as it was)", source, target, err)
	}

	// Verified as ledgerd will see it: opened afresh.
	if dst, err = sql.Open(ctx, to); err != nil {
		return fmt.Errorf("--to %s: open the copy: %w", target, err)
	}
	defer dst.Close()
	report, err := src.VerifyCopy(ctx, dst)
	if err != nil {
		return fmt.Errorf("the copy in %s differs from %s:\n%w", target, source, err)
	}
	s := copySummary{From: source, To: target, Tables: report.Tables, Rows: report.Rows, Accounts: report.Accounts,
		Invoices: report.Invoices, CreditNotes: report.CreditNotes, Elapsed: time.Since(started).Seconds(), Verified: true}
	if inv.json {
		return writeJSON(inv.stdout, s)
	}
	return s.write(inv.stdout)
}

func (s copySummary) write(w io.Writer) error {
	_, err := fmt.Fprintf(w, `copied        %s → %s
verified      the rows of every table, the ledger balances of every account, the invoice and
              credit-note numbers, the invariants on the target
tables        %d
rows          %d
accounts      %d
invoices      %d
credit notes  %d
elapsed       %s
`, s.From, s.To, s.Tables, s.Rows, s.Accounts, s.Invoices, s.CreditNotes,
		time.Duration(s.Elapsed*float64(time.Second)).Round(time.Millisecond))
	return err
}

package sql_test

import (
	"context"
	stdsql "database/sql"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"ledger/billing"
	"ledger/ledger"
	"ledger/sql"
)

// A database written by an earlier ledgerd (schema 0001–0002: balances beside the names in
// ledger_accounts) opens with today's code: the migrations move the balances into their own
// table, keep the journal's foreign keys, and every balance, chain and invariant is as it was.
func TestUpgradeFromCreditControlSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	old, err := stdsql.Open("sqlite3", "file:"+path+"?_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"0001_core.sql", "0002_credit.sql"} {
		body, err := os.ReadFile(filepath.Join("migrations", "sqlite", name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := old.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := old.Exec(`INSERT INTO schema_migrations VALUES (?, ?, '2026-03-01T00:00:00.000000000Z')`, i+1, name); err != nil {
			t.Fatal(err)
		}
	}
	// One account charged 0.150000 for two SMS parts, as the credit-control release wrote it.
	for _, q := range []string{
		`INSERT INTO accounts(id, name, type, status, country, credit_limit_micros, payment_terms_days, indexation, registered_at, created_at, created_by)
		 VALUES ('acme', 'Acme', 'postpaid', 'active', 'NL', 5000000000, 14, 1, '2026-01-01T00:00:00.000000000Z', '2026-01-01T00:00:00.000000000Z', 'test')`,
		`INSERT INTO ledger_accounts(id, name, account_id, balance_micros, last_entry_id) VALUES
		 (1, 'customer:acme:unbilled', 'acme', 150000, 1), (2, 'revenue:usage:sms', NULL, -150000, 2)`,
		`INSERT INTO transactions(id, kind, at, event_count, memo, created_by) VALUES (1, 'usage', '2026-03-10T08:00:00.000000000Z', 1, '1 usage events', 'ingest')`,
		`INSERT INTO entries(id, transaction_id, ledger_account_id, amount_micros, event_count, prev_id) VALUES (1, 1, 1, 150000, 1, NULL), (2, 1, 2, -150000, 1, NULL)`,
		`INSERT INTO charges(event_id, content_hash, account_id, transaction_id, amount_micros, surcharge_micros, occurred_at_ns, rating)
		 VALUES ('ev-1', 42, 'acme', 1, 150000, 0, 0, '["sms","","outbound","31","NL",2,2,0]')`,
		`INSERT INTO meta(key, value) VALUES ('instance', 'feedfacefeedface')`,
	} {
		if _, err := old.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	old.Close()

	ctx := context.Background()
	s, err := sql.Open(ctx, "sqlite://"+path)
	if err != nil {
		t.Fatalf("open the old database: %v", err)
	}
	defer s.Close()
	if err := s.CheckInvariants(ctx); err != nil {
		t.Fatalf("invariants after the upgrade: %v", err)
	}
	if b, err := s.Balance(ctx, "customer:acme:unbilled"); err != nil || b != eur("0.15") {
		t.Errorf("unbilled after the upgrade: %s, %v; want 0.15", b, err)
	}
	v, err := s.Account(ctx, "acme")
	if err != nil || v.Unbilled != eur("0.15") {
		t.Errorf("account after the upgrade: %+v, %v", v, err)
	}
	entries, err := s.Entries(ctx, "acme", at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z"), 0, 10)
	if err != nil || len(entries) != 1 || entries[0].Amount != eur("0.15") {
		t.Errorf("entries after the upgrade: %+v, %v", entries, err)
	}
	// The upgraded store charges on: a new ledger account gets its balance row.
	book := ledger.NewCreditBook()
	policy, _ := ledger.NewCreditPolicy(ledger.DefaultThresholds)
	if err := s.UseCredit(ctx, book, policy); err != nil {
		t.Fatal(err)
	}
	if c, _ := book.Get("acme"); c.Exposure != eur("0.15") {
		t.Errorf("exposure after the upgrade %s, want 0.15", c.Exposure)
	}
	a := ledger.Account{ID: "pre", Name: "Pre", Type: ledger.Prepaid, Status: ledger.Active, Country: "NL",
		CreditLimit: ledger.DefaultCreditLimit, PaymentTermsDays: 14, RegisteredAt: at("2026-03-01T00:00:00Z"), CreatedAt: at("2026-03-01T00:00:00Z"), CreatedBy: "test"}
	if _, _, err := s.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	top, _ := ledger.NewTopUp{ID: "t1", Amount: "10.00", ReceivedAt: "2026-03-02T10:00:00Z"}.Validate(at("2026-03-02T10:00:00Z"))
	if _, _, err := topUp(ctx, s, "pre", top, "test", at("2026-03-02T10:00:00Z")); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckInvariants(ctx); err != nil {
		t.Fatalf("invariants after a top-up on the upgraded database: %v", err)
	}
}

// A database of the invoicing release (schema 0001–0005) opens with today's code: 0007 adds the
// claims and liabilities (and runs whether or not 0006 is there: migrations apply by version),
// and the account it holds can claim at once (R12).
func TestUpgradeFromInvoicingSchemaAddsClaims(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	old, err := stdsql.Open("sqlite3", "file:"+path+"?_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"0001_core.sql", "0002_credit.sql", "0003_prepaid.sql", "0004_balances.sql", "0005_invoices.sql"} {
		body, err := os.ReadFile(filepath.Join("migrations", "sqlite", name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := old.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := old.Exec(`INSERT INTO schema_migrations VALUES (?, ?, '2026-03-01T00:00:00.000000000Z')`, i+1, name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := old.Exec(`INSERT INTO accounts(id, name, type, status, country, credit_limit_micros, payment_terms_days, indexation, registered_at, created_at, created_by)
		VALUES ('acme', 'Acme', 'postpaid', 'active', 'NL', 5000000000, 14, 1, '2026-01-01T00:00:00.000000000Z', '2026-01-01T00:00:00.000000000Z', 'test')`); err != nil {
		t.Fatal(err)
	}
	old.Close()

	ctx := context.Background()
	s, err := sql.Open(ctx, "sqlite://"+path)
	if err != nil {
		t.Fatalf("open the old database: %v", err)
	}
	defer s.Close()
	if _, _, err := addPayment(ctx, s, "acme", billing.NewPayment{ID: "p1", Amount: eur("80.00"), ReceivedAt: at("2026-02-01T10:00:00Z"), SEPA: true},
		"test", at("2026-02-01T10:00:00Z")); err != nil {
		t.Fatal(err)
	}
	v, created, err := fileClaim(ctx, s, "acme", ledger.Claim{ID: "c1", Amount: eur("100.00"), IncidentAt: at("2026-03-01T10:00:00Z"),
		Reason: "outage"}, "test", at("2026-03-02T10:00:00Z"))
	if err != nil || !created || v.Granted != eur("80.00") || v.Liability.Cap != eur("80.00") {
		t.Fatalf("claim on the upgraded database: %+v, %v, %v; want 80.00 granted of the 80.00 cap", v, created, err)
	}
	if err := s.CheckInvariants(ctx); err != nil {
		t.Fatalf("invariants after a claim on the upgraded database: %v", err)
	}
}

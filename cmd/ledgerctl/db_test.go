package main

import (
	"context"
	stdsql "database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"ledger/billing"
	"ledger/service"
	"ledger/sql"
	"ledger/sql/storetest"
)

// TestDBCopy copies a ledger with history (accounts postpaid and prepaid, usage, a billing
// run, a dispute and its credit note, a payment, a claim, a parked event) with ledgerd stopped,
// into SQLite and, with LEDGER_TEST_POSTGRES set, into PostgreSQL. The source is on SQLite and,
// in storetest's second run, on PostgreSQL: every direction between the engines is copied.
// Each copy is verified by the command, then opened as ledgerd would open it and read through
// the store: the same accounts with their balances, the same invoices in the same order, the
// same credit notes and lots, the invariants holding, the outbox's ids never given twice; a
// second copy into it is refused.
func TestDBCopy(t *testing.T) {
	from := buildLedger(t)
	targets := map[string]func(t *testing.T) string{
		"to_sqlite":   func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "copy", "ledger.db") },
		"to_postgres": newPostgresDatabase,
	}
	for _, name := range []string{"to_sqlite", "to_postgres"} {
		t.Run(name, func(t *testing.T) {
			to := targets[name](t)
			r := ledgerctl(t, "db", "copy", "--from", from, "--to", to)
			if r.code != 0 {
				t.Fatal(r)
			}
			for _, want := range [][]string{{"copied", from, "→", to}, {"verified", "the", "rows", "of", "every", "table,"}, {"tables", "26"}, {"accounts", "4"}, {"invoices", "2"}, {"credit", "notes", "1"}, {"elapsed"}} {
				if !hasLineStarting(r.stdout, want...) {
					t.Errorf("summary has no line of %q\n%s", want, r)
				}
			}
			for _, want := range []string{"copied 4/4 rows of accounts\n", "copied 2/2 rows of invoices\n", "copied 1/1 rows of credit_notes\n"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("no progress line %q\n%s", want, r)
				}
			}
			sameLedger(t, from, to)

			again := ledgerctl(t, "db", "copy", "--from", from, "--to", to)
			if again.code != 1 || !strings.Contains(again.stderr, "the target is not empty: accounts has 4 rows") ||
				!strings.Contains(again.stderr, "nothing was changed") {
				t.Errorf("a second copy into the same target:\n%s", again)
			}
			sameLedger(t, from, to)
		})
	}
}

// TestDBCopyVerifyFindsDifferences: a copy changed behind the copy's back fails VerifyCopy,
// which names the table whose rows differ, the account whose balances differ and the invariant
// broken.
func TestDBCopyVerifyFindsDifferences(t *testing.T) {
	ctx := context.Background()
	from := buildLedger(t)
	path := filepath.Join(t.TempDir(), "copy.db")
	if r := ledgerctl(t, "db", "copy", "--from", from, "--to", "sqlite://"+path); r.code != 0 {
		t.Fatal(r)
	}
	raw, err := stdsql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO meta(key, value) VALUES ('extra', 'x')`,
		`UPDATE balances SET balance_micros = balance_micros + 7
		 WHERE ledger_account_id = (SELECT id FROM ledger_account_names WHERE name = 'customer:acme:credit')`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()
	src, err := sql.Open(ctx, from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := sql.Open(ctx, "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	_, err = src.VerifyCopy(ctx, dst)
	for _, want := range []string{"rows of meta: source 3, target 4", "ledger balances differ: account acme: source",
		"the target's invariants: balances equal the sum of their entries: ledger account customer:acme:credit"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("VerifyCopy = %v, want it to name %q", err, want)
		}
	}
}

// TestDBCopyRefuses: what db copy will not do, and the password it never prints.
func TestDBCopyRefuses(t *testing.T) {
	dir := t.TempDir()
	const secret = "Sup3rSecretPw"
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no_from", []string{"db", "copy", "--to", "sqlite://" + filepath.Join(dir, "a.db")}, 2, "--from is required"},
		{"same_database", []string{"db", "copy", "--from", "sqlite://x.db", "--to", "sqlite://x.db"}, 2, "same database"},
		{"missing_source_file", []string{"db", "copy", "--from", "sqlite://" + filepath.Join(dir, "none.db"), "--to", "sqlite://" + filepath.Join(dir, "b.db")},
			1, "no SQLite database at " + filepath.Join(dir, "none.db")},
		{"unreachable_target_password_hidden", []string{"db", "copy", "--from", "sqlite://" + emptyLedger(t), "--to", "postgres://ledger:" + secret + "@127.0.0.1:1/ledger"},
			1, "--to postgres://ledger:…@127.0.0.1:1/ledger: connect to PostgreSQL at postgres://ledger:…@127.0.0.1:1/ledger"},
		{"unreachable_source_password_hidden", []string{"db", "copy", "--from", "postgres://ledger:" + secret + "@127.0.0.1:1/ledger?sslmode=disable", "--to", "sqlite://" + filepath.Join(dir, "c.db")},
			1, "--from postgres://ledger:…@127.0.0.1:1/ledger?sslmode=disable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := ledgerctl(t, c.args...)
			if r.code != c.code || !strings.Contains(r.stderr, c.want) {
				t.Errorf("want exit %d and %q:\n%s", c.code, c.want, r)
			}
			if strings.Contains(r.stdout+r.stderr, secret) {
				t.Errorf("the password is printed:\n%s", r)
			}
		})
	}

	t.Run("source_in_use_by_a_running_ledgerd", func(t *testing.T) {
		if storetest.Postgres() {
			t.Skip("only a SQLite file is locked by its ledgerd")
		}
		l := startLedgerd(t, nil)
		r := ledgerctl(t, "db", "copy", "--from", l.svc.Config.DB, "--to", "sqlite://"+filepath.Join(t.TempDir(), "d.db"))
		if r.code != 1 || !strings.Contains(r.stderr, "is in use by a running ledgerd") || !strings.Contains(r.stderr, "stop it first") {
			t.Error(r)
		}
	})

	t.Run("not_a_ledger", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "other.db")
		db, err := stdsql.Open("sqlite3", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`CREATE TABLE t (x INTEGER)`); err != nil {
			t.Fatal(err)
		}
		db.Close()
		r := ledgerctl(t, "db", "copy", "--from", "sqlite://"+path, "--to", "sqlite://"+filepath.Join(t.TempDir(), "e.db"))
		if r.code != 1 || !strings.Contains(r.stderr, "holds no ledger") {
			t.Error(r)
		}
	})
}

// emptyLedger makes a migrated SQLite ledger with nothing in it and returns its path.
func emptyLedger(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "empty.db")
	s, err := sql.Open(context.Background(), "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	return path
}

// buildLedger runs a ledgerd (on the engine storetest runs on) through some history, stops it
// and returns its database's URL.
func buildLedger(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	svc, err := service.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start ledgerd: %v", err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := svc.Stop(ctx); err != nil {
			t.Errorf("stop ledgerd: %v", err)
		}
	}
	t.Cleanup(stop)
	nc, err := nats.Connect(svc.NATSURL)
	if err != nil {
		t.Fatalf("connect to ledgerd's NATS: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	l := &ledgerd{t: t, svc: svc, js: js}

	l.postpaid("", "acme")
	l.postpaid("", "beta")
	l.api("", "POST", "/v1/accounts", map[string]any{"id": "gamma", "name": "Customer gamma", "type": "postpaid",
		"country": "NL", "registered_at": "2026-01-01T00:00:00Z"}, http.StatusCreated)
	l.api("", "POST", "/v1/accounts", map[string]any{"id": "pre", "name": "Prepaid customer", "type": "prepaid",
		"country": "NL", "registered_at": "2026-01-01T00:00:00Z"}, http.StatusCreated)
	l.api("", "POST", "/v1/accounts/pre/topups", map[string]any{"id": "T-1", "amount": "50.00", "method": "card",
		"received_at": "2026-03-10T08:00:00Z"}, http.StatusCreated)
	for i := range 10 {
		l.sendSMS(fmt.Sprintf("acme-%d", i), "acme", 100)
	}
	l.sendSMS("beta-a", "beta", 400)
	l.sendSMS("ghost-a", "ghost", 1) // no such account: parked
	l.waitUnbilled("", "acme", "75.000000")
	l.waitUnbilled("", "beta", "30.000000")
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(string(l.api("", "GET", "/v1/rejected", nil, http.StatusOK)), "ghost-a") {
		if time.Now().After(deadline) {
			t.Fatal("the event for no account was not parked")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The March billing run, a dispute accepted (a credit note), a payment with credit left, a claim.
	l.setClock("", "2026-03-31T22:00:00Z")
	l.api("", "POST", "/v1/invoices/INV-2026-000002/disputes", map[string]any{"id": "D-1", "amount": "12.10",
		"reason": "not ours"}, http.StatusCreated)
	l.api("", "POST", "/v1/disputes/D-1/resolve", map[string]any{"outcome": "accepted"}, http.StatusOK)
	l.api("", "POST", "/v1/accounts/acme/payments", map[string]any{"id": "P-1", "amount": "100.00"}, http.StatusCreated)
	l.setClock("", "2026-04-05T10:00:00Z")
	l.api("", "POST", "/v1/accounts/acme/claims", map[string]any{"id": "C-1", "amount": "30.00",
		"incident_at": "2026-04-03T10:00:00Z", "reason": "outage"}, http.StatusCreated)
	if err := svc.Store.CheckInvariants(context.Background()); err != nil {
		t.Fatalf("the source's invariants: %v", err)
	}
	dbURL := svc.Config.DB
	stop()
	return dbURL
}

// newPostgresDatabase is a PostgreSQL database for the test, holding no ledger, dropped at the
// end of the run; it skips the test without LEDGER_TEST_POSTGRES.
func newPostgresDatabase(t *testing.T) string {
	t.Helper()
	u, ok := storetest.PostgresURL(filepath.Join(t.TempDir(), "target.db"))
	if !ok {
		t.Skip(storetest.EnvPostgres + " is not set")
	}
	return u
}

// sameLedger opens both databases as ledgerd does and compares what the store reads from them.
func sameLedger(t *testing.T, from, to string) {
	t.Helper()
	ctx := context.Background()
	read := func(url string) (map[string]string, int64) {
		s, err := sql.Open(ctx, url)
		if err != nil {
			t.Fatalf("open %s: %v", sql.Redact(url), err)
		}
		defer s.Close()
		if err := s.CheckInvariants(ctx); err != nil {
			t.Errorf("invariants of %s: %v", sql.Redact(url), err)
		}
		out := map[string]string{}
		add := func(key string, v any, err error) {
			if err != nil {
				t.Fatalf("%s of %s: %v", key, sql.Redact(url), err)
			}
			b, _ := json.Marshal(v)
			out[key] = string(b)
		}
		accounts, err := s.Accounts(ctx, 0, 100)
		add("accounts", accounts, err)
		invoices, err := s.Invoices(ctx, billing.InvoiceFilter{}, "", 100)
		add("invoices", invoices, err)
		notes, err := s.CreditNotes(ctx, "", "", 100)
		add("credit notes", notes, err)
		lots, err := s.Lots(ctx, "pre")
		add("lots", lots, err)
		for _, a := range accounts {
			credit, err := s.Balance(ctx, "customer:"+a.ID+":credit")
			add("credit of "+a.ID, credit, err)
		}
		return out, nextOutboxID(t, url)
	}
	want, wantNext := read(from)
	got, gotNext := read(to)
	if len(got) != len(want) {
		t.Errorf("read %d things from the copy, %d from the source", len(got), len(want))
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s:\n source %s\n copy   %s", k, w, got[k])
		}
	}
	if !strings.Contains(want["invoices"], "INV-2026-000002") || !strings.Contains(want["credit notes"], "CN-2026-000001") {
		t.Errorf("the source has not the history built: %s %s", want["invoices"], want["credit notes"])
	}
	if gotNext < wantNext {
		t.Errorf("the copy's next outbox id is %d, the source's %d: relayed message ids would be given again", gotNext, wantNext)
	}
}

// nextOutboxID is the id the database would give the next outbox row.
func nextOutboxID(t *testing.T, dbURL string) int64 {
	t.Helper()
	var db *stdsql.DB
	var err error
	q := `SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0) + 1`
	if path, ok := strings.CutPrefix(dbURL, "sqlite://"); ok {
		db, err = stdsql.Open("sqlite3", "file:"+path+"?mode=ro")
	} else {
		db, err = stdsql.Open("pgx", dbURL)
		q = `SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM outbox_id_seq`
	}
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var next int64
	if err := db.QueryRow(q).Scan(&next); err != nil {
		t.Fatalf("next outbox id of %s: %v", sql.Redact(dbURL), err)
	}
	return next
}

// TestDBStatusAndCheck: db status reads the schema version without changing anything; db check
// finds a ledger whole, then names the invariant a tampered balance breaks, exit 1; a database
// of another schema version is refused, not migrated.
func TestDBStatusAndCheck(t *testing.T) {
	url := buildLedger(t)
	if r := ledgerctl(t, "db", "status", "--db", url); r.code != 0 || !strings.Contains(r.stdout, "up to date with this release") {
		t.Fatalf("db status:\n%s", r)
	}
	if r := ledgerctl(t, "db", "check", "--db", url); r.code != 0 || !strings.Contains(r.stdout, "invariants  hold") {
		t.Fatalf("db check of a whole ledger:\n%s", r)
	}
	raw, err := rawOpen(url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE balances SET balance_micros = balance_micros + 7
		WHERE ledger_account_id = (SELECT id FROM ledger_account_names WHERE name = 'customer:acme:credit')`); err != nil {
		t.Fatal(err)
	}
	r := ledgerctl(t, "db", "check", "--db", url)
	if r.code != 1 || !strings.Contains(r.stderr, "breaks the ledger's invariants") ||
		!strings.Contains(r.stderr, "balances equal the sum of their entries: ledger account customer:acme:credit") {
		t.Fatalf("db check of a tampered balance:\n%s", r)
	}
	if _, err := raw.Exec(`UPDATE schema_migrations SET version = version + 100 WHERE version = (SELECT max(version) FROM schema_migrations)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if r := ledgerctl(t, "db", "status", "--db", url, "--json"); r.code != 0 || !strings.Contains(r.stdout, `"state": "ahead"`) {
		t.Fatalf("db status of a newer schema:\n%s", r)
	}
	if r := ledgerctl(t, "db", "check", "--db", url); r.code != 1 || !strings.Contains(r.stderr, "nothing was checked") {
		t.Fatalf("db check of a newer schema:\n%s", r)
	}
}

// rawOpen opens a ledger's database by its URL, beside the store, to change it behind its back.
func rawOpen(url string) (*stdsql.DB, error) {
	if path, ok := strings.CutPrefix(url, "sqlite://"); ok {
		return stdsql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
	}
	return stdsql.Open("pgx", url)
}

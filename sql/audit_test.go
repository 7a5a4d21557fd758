package sql_test

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ledger/billing"
	"ledger/ledger"
	"ledger/sql"
	"ledger/sql/storetest"
)

// CONTRACT 3.10: a write's audit record is written in the transaction of the change: both
// commit, or neither does; and the trail is append-only — the database itself refuses to
// change or delete a record.
func TestAudit(t *testing.T) {
	ctx := context.Background()
	store, err := sql.Open(ctx, storetest.URL(filepath.Join(t.TempDir(), "ledger.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	uses := useCasesAt(store, now)
	record := func(path string) *billing.AuditRecord {
		return &billing.AuditRecord{At: now, Actor: "alice", Role: "admin", Method: "POST", Path: path, Status: 201}
	}

	created := record("/v1/accounts")
	if _, _, err := uses.CreateAccount(billing.WithAudit(ctx, created), ledger.NewAccount{ID: "acme", Name: "Acme",
		Type: string(ledger.Postpaid), Country: "NL"}, "alice"); err != nil {
		t.Fatal(err)
	}
	if !created.Written {
		t.Error("the account's creation committed without its audit record")
	}
	refused := record("/v1/accounts/ghost/credit-limit")
	if _, err := uses.SetCreditLimit(billing.WithAudit(ctx, refused), "ghost", ledger.DefaultCreditLimit, "alice"); err == nil {
		t.Fatal("a credit limit for an account that does not exist was accepted")
	}
	if refused.Written {
		t.Error("a refused write's transaction committed its audit record")
	}
	list, err := store.Audit(ctx, 0, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Path != "/v1/accounts" || list[0].Status != 201 || !list[0].At.Equal(now) {
		t.Fatalf("audit = %+v, want the account's creation only", list)
	}

	for _, change := range []string{`UPDATE audit SET actor = 'mallory'`, `DELETE FROM audit`} {
		err := store.PipelinedWrite(ctx, func(later func(string, ...any) error, _ func(string, ...any) *stdsql.Row) error {
			return later(change)
		})
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want it refused as append-only", change, err)
		}
	}
	if after, err := store.Audit(ctx, 0, "", 10); err != nil || len(after) != 1 || after[0].Actor != "alice" {
		t.Errorf("after the refused changes the trail is %+v (%v)", after, err)
	}
}

// A damaged SQLite file is refused at Open (PRAGMA quick_check), saying so, before anything is
// read from it or written to it.
func TestDamagedFileRefused(t *testing.T) {
	if storetest.Postgres() {
		t.Skip("PostgreSQL checks its own pages")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	store, err := sql.Open(ctx, storetest.URL(path))
	if err != nil {
		t.Fatal(err)
	}
	uses := useCasesAt(store, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	for i := range 300 {
		if _, _, err := uses.CreateAccount(ctx, ledger.NewAccount{ID: fmt.Sprintf("a%03d", i), Name: "A", Type: "postpaid", Country: "NL"}, "t"); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.CheckPages(ctx); err != nil {
		t.Fatalf("a sound file: %v", err)
	}
	store.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Scribble over the middle of the pages of the second half: leaves of the tables written,
	// which the file's header and schema do not show and quick_check does.
	const page = 4096
	for n := len(raw) / page / 2; n < len(raw)/page-1; n++ {
		copy(raw[n*page+100:n*page+400], strings.Repeat("\xff", 300))
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = sql.Open(ctx, storetest.URL(path))
	if !errors.Is(err, sql.ErrDamaged) || !strings.Contains(err.Error(), "backup") {
		t.Fatalf("open a damaged file: %v, want it refused as damaged", err)
	}
}

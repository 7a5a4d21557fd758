package sql_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"ledger/ledger"
	"ledger/sql/storetest"
)

// Two stores on one PostgreSQL database, as two ledgerd (docs/scaling.md): the leader lease is
// held by one at a time; writes through both in turn keep one journal, each reloading what the
// other wrote before it decides; the shared test clock never moves back.
func TestCluster_two_stores_one_database(t *testing.T) {
	if !storetest.Postgres() {
		t.Skip("several ledgerd share a PostgreSQL database only (a SQLite file has one)")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	a := openFixture(t, path)
	defer a.close()
	b := openFixture(t, path)
	defer b.store.Close()
	b.seq = 1_000_000 // event ids of its own

	// The leader lease: one holder; free for the other once given up.
	lease, ok, err := a.store.Lead(ctx)
	if err != nil || !ok {
		t.Fatalf("a takes the free lease: %v, %v", ok, err)
	}
	if _, ok, err := b.store.Lead(ctx); err != nil || ok {
		t.Fatalf("b takes the lease a holds: %v, %v; want refused", ok, err)
	}
	lease.Release()
	lease, ok, err = b.store.Lead(ctx)
	if err != nil || !ok {
		t.Fatalf("b takes the lease a gave up: %v, %v", ok, err)
	}
	lease.Release()

	// Accounts opened through each; usage charged through both in turn, each refreshing first as
	// the ingestion does: one journal, every event once.
	a.account("acme", "postpaid", "2026-01-01T00:00:00Z")
	b.account("beta", "postpaid", "2026-01-01T00:00:00Z")
	for i := range 10 {
		for _, f := range []*fixture{a, b} {
			if err := f.store.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			for _, account := range []string{"acme", "beta"} {
				occurred := time.Date(2026, 3, 1+i, 10, 0, 0, 0, time.UTC).Format(time.RFC3339)
				if o := f.sms(account, 1, occurred, "2026-03-20T00:00:00Z"); o != ledger.OutcomeCharged {
					t.Fatalf("sms %d for %s: %s", i, account, o)
				}
			}
		}
	}
	for _, f := range []*fixture{a, b} {
		for _, account := range []string{"acme", "beta"} {
			// 10 rounds × 2 stores × 1 part × €0.075
			if got := f.balance("customer:" + account + ":unbilled"); got != eur("1.50") {
				t.Errorf("unbilled of %s read through a store: %s, want 1.50", account, got.Decimal())
			}
		}
	}
	if reloads, _ := b.store.ClusterCounts(); reloads == 0 {
		t.Error("b wrote after a and never read again what a wrote")
	}

	// The shared test clock: moved forward through a, it is not moved back through b.
	if err := a.store.SaveTestClock(ctx, at("2026-03-25T00:00:00Z")); err != nil {
		t.Fatal(err)
	}
	err = b.store.SaveTestClock(ctx, at("2026-03-21T00:00:00Z"))
	if ledger.ErrorCode(err) != ledger.CodeConflict {
		t.Errorf("b sets the clock back: %v, want a conflict (409)", err)
	}
	if now, _, err := b.store.TestClock(ctx); err != nil || !now.Equal(at("2026-03-25T00:00:00Z")) {
		t.Errorf("the clock through b: %s, %v; want 2026-03-25", now, err)
	}
}

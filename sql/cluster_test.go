package sql_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"ledger/ledger"
	"ledger/sql/storetest"
)

// twoInstances opens two stores on one PostgreSQL database, as two ledgerd would; the first is
// checked against the invariants at the end. Skipped on SQLite, whose file has one ledgerd.
func twoInstances(t *testing.T) (a, b *fixture) {
	t.Helper()
	if !storetest.Postgres() {
		t.Skip("several ledgerd share a PostgreSQL database only (a SQLite file has one)")
	}
	path := filepath.Join(t.TempDir(), "ledger.db")
	a = openFixture(t, path)
	t.Cleanup(a.close)
	b = openFixture(t, path)
	t.Cleanup(func() { b.store.Close() })
	b.seq = 1_000_000 // event ids of its own
	return a, b
}

// Two stores on one PostgreSQL database, as two ledgerd (docs/scaling.md): the leader lease is
// held by one at a time; writes through both in turn keep one journal, each reloading what the
// other wrote before it decides; the shared test clock never moves back.
func TestCluster_two_stores_one_database(t *testing.T) {
	ctx := context.Background()
	a, b := twoInstances(t)

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

// Reading the view again (after another instance's write) never leaves an account's agreed
// prices out of force, not even for a moment: the planner rates beside it (T&C 2.7).
func TestCluster_reload_keeps_agreements_in_force(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.account("acme", "postpaid", "2026-01-01T00:00:00Z")
	if _, _, err := f.agree("acme", "sms,,outbound,31,NL,0.05,,,2026-01-01,SMS NL agreed\n", "2026-03-01T09:00:00Z"); err != nil {
		t.Fatal(err)
	}
	if f.book.Terms("acme").Agreement == nil {
		t.Fatal("the agreement is not in force")
	}
	var stop atomic.Bool
	var missing atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !stop.Load() {
			if f.book.Terms("acme").Agreement == nil {
				missing.Add(1)
			}
		}
	}()
	for range 200 {
		if err := f.store.ReloadView(ctx); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	<-done
	if n := missing.Load(); n > 0 {
		t.Errorf("the planner saw acme without its agreement %d times while the view was read again: it would rate at list prices", n)
	}
}

// prepared is one NL-or-elsewhere SMS of the fixture's, prepared as ingestion prepares it.
func (f *fixture) prepared(account, destination string) ledger.Prepared {
	f.seq++
	body := fmt.Sprintf(`{"id":"ev-%d","account":%q,"channel":"sms","destination":%q,"quantity":1,"occurred_at":"2026-03-02T10:00:00Z"}`,
		f.seq, account, destination)
	return ledger.Prepare(ledger.Delivery{Subject: "usage.sms." + account, Data: []byte(body)}, f.book, f.tariffs)
}

// A line a leader's planner added, written by its flush before the batch commits, is read by
// another instance before that one adds a line of its own: no two lines share an id, and every
// charge names the line it was rated on (R5: the invoice shows each country's usage as such).
func TestCluster_invoice_lines_never_shared(t *testing.T) {
	ctx := context.Background()
	a, b := twoInstances(t)
	path := a.path
	a.account("acme", "postpaid", "2026-01-01T00:00:00Z")
	if err := b.store.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	at := at("2026-03-02T11:00:00Z")
	charge := func(f *fixture, destination string) {
		t.Helper()
		if _, err := f.store.ChargeBatch(ctx, []ledger.Prepared{f.prepared("acme", destination)}, at); err != nil {
			t.Fatal(err)
		}
	}
	charge(a, "+31612345678")
	charge(b, "+31612345678")
	if err := a.store.FlushLines(ctx); err != nil {
		t.Fatal(err)
	}
	// a plans a German SMS (a new line); its upkeep writes the line before the batch commits.
	pb, err := a.store.PlanBatch([]ledger.Prepared{a.prepared("acme", "+4915112345678")}, at)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.store.FlushLines(ctx); err != nil {
		t.Fatal(err)
	}
	charge(b, "+32470123456") // b adds a Belgian line
	if _, err := a.store.Commit(ctx, pb); err != nil {
		t.Fatal(err)
	}
	db, err := storetest.OpenRaw(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT c.event_id, c.rating->>4, s.country FROM charges c JOIN line_specs s ON s.id = c.line_id ORDER BY c.seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, rated, line string
		if err := rows.Scan(&id, &rated, &line); err != nil {
			t.Fatal(err)
		}
		n++
		if rated != line {
			t.Errorf("charge %s, rated in %s, names the invoice line of %s", id, rated, line)
		}
	}
	if n != 4 {
		t.Errorf("%d charges, want 4", n)
	}
}
